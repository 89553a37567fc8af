import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One write the registry did for a caller: who (its key's name and tenant), what, on what. */
@Entity({ name: 'audit_log' })
export class AuditEntryEntity {
  /** In the order written (a sequence): the audit log is paged by it. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;

  /** The caller's key name (`bootstrap`, `claude-hub`, or a stored key's). */
  @Column('text')
  key!: string;

  @Column('text')
  tenant!: string;

  /** The request's subject without `hub.registry.`: `sessions.create`, `keys.revoke`, … */
  @Column('text')
  action!: string;

  @Column({ name: 'target_type', type: 'text', nullable: true })
  targetType!: string | null;

  @Column({ name: 'target_id', type: 'text', nullable: true })
  targetId!: string | null;

  /** A few fields worth keeping (never a prompt nor a token); at most 4 KiB. */
  @Column({ type: 'jsonb', nullable: true })
  detail!: Record<string, unknown> | null;
}
