import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { OutputFile, SessionStatus } from '@hub/contracts';

@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryColumn('uuid')
  id!: string;

  /** Insertion order: lists are newest first by it, and cursors point into it. */
  @Column({ type: 'bigint', insert: false, update: false })
  seq!: string;

  @Column({ name: 'orchestration_id', type: 'uuid' })
  orchestrationId!: string;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  @Column('text')
  type!: string;

  @Column('text')
  prompt!: string;

  @Column('text')
  image!: string;

  @Column({ type: 'text', nullable: true })
  repository!: string | null;

  @Column({ type: 'text', nullable: true })
  branch!: string | null;

  @Column({ name: 'timeout_seconds', type: 'int' })
  timeoutSeconds!: number;

  @Column('text')
  status!: SessionStatus;

  @Column({ name: 'status_reason', type: 'text', nullable: true })
  statusReason!: string | null;

  @Column({ name: 'exit_code', type: 'int', nullable: true })
  exitCode!: number | null;

  @Column({ name: 'oom_killed', type: 'boolean', nullable: true })
  oomKilled!: boolean | null;

  @Column({ name: 'container_id', type: 'text', nullable: true })
  containerId!: string | null;

  @Column({ name: 'runner_id', type: 'text', nullable: true })
  runnerId!: string | null;

  @Column({ type: 'int', default: 0 })
  attempt!: number;

  @Column({ type: 'int', default: 0 })
  retries!: number;

  /** When it last became ready: runners take ready sessions in this order. */
  @Column({ name: 'ready_at', type: 'timestamptz', nullable: true })
  readyAt!: Date | null;

  /** When `session.ready` was emitted for it (held back while its orchestration is at maxParallel). */
  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true })
  dispatchedAt!: Date | null;

  @Column({ name: 'output_files', type: 'jsonb', default: () => "'[]'::jsonb" })
  outputFiles!: OutputFile[];

  @Column({ name: 'log_bytes', type: 'int', nullable: true })
  logBytes!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
