import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A runner as the registry last saw it in the runners' heartbeats (NATS KV `hub_runners`, whose entries
 * vanish a minute after their last put): kept here so that a registry that restarts still knows when
 * each runner was last heard, and which one was lost. Written by the registry's lease check only.
 */
@Entity({ name: 'runners' })
export class RunnerEntity {
  /** Its HUB_RUNNER_ID. */
  @PrimaryColumn('text')
  id!: string;

  @Column({ name: 'first_seen_at', type: 'timestamptz', default: () => 'now()' })
  firstSeenAt!: Date;

  /** When the registry last saw a new heartbeat of it (its clock, not the NATS server's). */
  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt!: Date;

  /** The KV revision of that heartbeat: the same revision read again is no new heartbeat. */
  @Column({ name: 'heartbeat_revision', type: 'bigint', nullable: true })
  heartbeatRevision!: string | null;

  /** How often it said it puts its heartbeat. */
  @Column({ name: 'heartbeat_every_ms', type: 'int' })
  heartbeatEveryMs!: number;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ type: 'int', default: 0 })
  slots!: number;

  @Column({ name: 'in_use', type: 'int', default: 0 })
  inUse!: number;

  @Column({ type: 'jsonb', default: () => "'[]'::jsonb" })
  labels!: string[];

  @Column({ type: 'text', nullable: true })
  version!: string | null;

  /** When its lease lapsed (no heartbeat for longer than the grace) and its sessions went back to ready; null while it is alive. */
  @Column({ name: 'lost_at', type: 'timestamptz', nullable: true })
  lostAt!: Date | null;
}
