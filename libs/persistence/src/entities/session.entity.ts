import { Column, Entity, PrimaryColumn, ValueTransformer } from 'typeorm';
import type { ChangeSummary, EgressTraffic, OutputFile, SessionStatus, Usage } from '@hub/contracts';
import type { TraceContext } from '@hub/tracing';

/**
 * A byte count kept in a bigint column, read as a number: pg returns bigints as strings, and a
 * count stays far below 2^53.
 */
const BYTE_COUNT: ValueTransformer = {
  to: (value: number | null) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/**
 * A session's row: the one description of it. The registry's records, changes, inserts and raw
 * statements take their fields, columns and types from here; the migrations build the same table,
 * and `schema.spec.ts` fails when the two disagree.
 */
@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryColumn('uuid')
  id!: string;

  /** Insertion order: lists are newest first by it, and cursors point into it. */
  @Column({ type: 'bigint', insert: false, update: false })
  seq!: string;

  @Column({ name: 'orchestration_id', type: 'uuid' })
  orchestrationId!: string;

  /** Its orchestration's tenant, copied at insert (a tenant's lists and in-flight count read this table alone). */
  @Column({ type: 'text', default: 'default' })
  tenant!: string;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  @Column('text')
  type!: string;

  @Column('text')
  prompt!: string;

  /** What it is told besides its prompt (mounted at /hub/context), if anything. */
  @Column({ type: 'text', nullable: true })
  context!: string | null;

  @Column('text')
  image!: string;

  /** The destinations it asked to reach through Hub's egress proxy (`host:port`); null: its image's allowance. */
  @Column({ type: 'jsonb', nullable: true })
  egress!: string[] | null;

  /** The labels a runner must have to run it (sorted; HUB_RUNNER_LABELS); empty: any runner. */
  @Column({ name: 'runner_labels', type: 'jsonb', default: () => "'[]'::jsonb" })
  runnerLabels!: string[];

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

  /** Which run this is: 1, then one more each time the session is re-run after it ended. */
  @Column({ type: 'int', default: 1 })
  run!: number;

  /** Attempts the earlier runs took: the attempt counter goes on across runs, the retry budget counts from here. */
  @Column({ name: 'attempts_before_run', type: 'int', default: 0 })
  attemptsBeforeRun!: number;

  /** When it last became ready: runners take ready sessions in this order. */
  @Column({ name: 'ready_at', type: 'timestamptz', nullable: true })
  readyAt!: Date | null;

  /** When `session.ready` was emitted for it (held back while its orchestration is at maxParallel). */
  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true })
  dispatchedAt!: Date | null;

  /** Output files recorded before manifests (the object store) held the lists. */
  @Column({ name: 'legacy_output_files', type: 'jsonb', default: () => "'[]'::jsonb" })
  legacyOutputFiles!: OutputFile[];

  @Column({ name: 'output_file_count', type: 'int', nullable: true })
  outputFileCount!: number | null;

  @Column({ name: 'output_bytes', type: 'bigint', nullable: true, transformer: BYTE_COUNT })
  outputBytes!: number | null;

  @Column({ name: 'output_skipped', type: 'int', nullable: true })
  outputSkipped!: number | null;

  @Column({ name: 'log_bytes', type: 'bigint', nullable: true, transformer: BYTE_COUNT })
  logBytes!: number | null;

  @Column({ name: 'log_dropped_bytes', type: 'bigint', nullable: true, transformer: BYTE_COUNT })
  logDroppedBytes!: number | null;

  /** When a cancel was asked for while a runner held the session. */
  @Column({ name: 'cancel_requested_at', type: 'timestamptz', nullable: true })
  cancelRequestedAt!: Date | null;

  /** Why Hub itself asked to cancel it (`because its orchestration's budget is spent …`); null: a client asked. */
  @Column({ name: 'cancel_reason', type: 'text', nullable: true })
  cancelReason!: string | null;

  /** What it changed in its git workspace, once captured (the lists and the bundle are in the object store). */
  @Column({ type: 'jsonb', nullable: true })
  changes!: ChangeSummary | null;

  /** What its last attempt reached, or tried to, through the egress proxy (bounded), once reported. */
  @Column({ name: 'egress_traffic', type: 'jsonb', nullable: true })
  egressTraffic!: EgressTraffic | null;

  /** What its agent reported spending, every attempt of every run added up; null until one reported. */
  @Column({ type: 'jsonb', nullable: true })
  usage!: Usage | null;

  /** The session whose conversation it continues (`POST /sessions/:id/continue`), or null. */
  @Column({ type: 'uuid', nullable: true })
  continues!: string | null;

  /**
   * The trace context it was created in (W3C traceparent, tracestate): its events that have no trace
   * of their own to continue continue this one, so its whole life is one trace. Null when tracing is off.
   */
  @Column({ name: 'trace_context', type: 'jsonb', nullable: true })
  traceContext!: TraceContext | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
