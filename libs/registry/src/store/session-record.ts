import type { SessionView } from '@hub/contracts';
import type { SessionAttemptEntity, SessionEntity } from '@hub/persistence';

/** The count columns a record carries grouped, as the API shows them (`output`, `log`). */
type CountColumn = 'outputFileCount' | 'outputBytes' | 'outputSkipped' | 'logBytes' | 'logDroppedBytes';

export interface OutputCounts {
  files: number;
  bytes: number;
  skipped: number;
}

export interface LogCounts {
  bytes: number;
  droppedBytes: number;
}

/**
 * A session as the registry holds it: its row (SessionEntity) with the counts grouped, its
 * dependencies and its finished attempts. `output` and `log` are null until the runner reported the
 * container's end.
 */
export type SessionRecord = Omit<SessionEntity, CountColumn> & {
  output: OutputCounts | null;
  log: LogCounts | null;
  dependsOn: string[];
  attempts: AttemptRecord[];
  /** The sessions that continue it, oldest first (at most MAX_CONTINUATIONS_LISTED). */
  continuedBy: string[];
};

export type AttemptRecord = Pick<SessionAttemptEntity, 'attempt' | 'status' | 'reason' | 'exitCode' | 'containerId'> & {
  finishedAt: string;
};

/** The columns a transition may set besides the status. Only these are ever written by a transition (and, by a re-run, RUN_RESET). */
type ChangeableColumn =
  | 'statusReason'
  | 'exitCode'
  | 'oomKilled'
  | 'containerId'
  | 'runnerId'
  | 'cancelRequestedAt'
  | 'changes'
  | 'egressTraffic'
  | 'usage'
  | 'startedAt'
  | 'finishedAt'
  | 'readyAt'
  | 'dispatchedAt';

/** Fields a transition may set besides the status. */
export type SessionChanges = Partial<Pick<SessionEntity, ChangeableColumn>> & {
  output?: OutputCounts;
  log?: LogCounts;
  incrementAttempt?: boolean;
  /** A re-run: the next run begins, with the row cleared of what the previous run left (RUN_RESET). */
  startNewRun?: boolean;
};

/**
 * What a re-run clears: the row describes the current run, so the previous run's end, container,
 * cancel request, output and changes go (each attempt stays in session_attempts).
 */
export const RUN_RESET = {
  exitCode: null,
  oomKilled: null,
  containerId: null,
  runnerId: null,
  cancelRequestedAt: null,
  cancelReason: null,
  changes: null,
  egressTraffic: null,
  startedAt: null,
  finishedAt: null,
  readyAt: null,
  dispatchedAt: null,
  legacyOutputFiles: [],
  outputFileCount: null,
  outputBytes: null,
  outputSkipped: null,
  logBytes: null,
  logDroppedBytes: null,
} as const satisfies Partial<SessionEntity>;

/** The columns a new session is written with; every other column starts at its default. */
export const NEW_SESSION_COLUMNS = [
  'id',
  'orchestrationId',
  'tenant',
  'name',
  'type',
  'prompt',
  'context',
  'image',
  'egress',
  'repository',
  'branch',
  'timeoutSeconds',
  'retries',
  'continues',
  'runnerLabels',
] as const satisfies readonly (keyof SessionEntity)[];

export type NewSession = Pick<SessionEntity, (typeof NEW_SESSION_COLUMNS)[number]> & { dependsOn: string[] };

/** A row as a record: the counts grouped, with its dependencies and finished attempts. */
export function toRecord(row: SessionEntity, dependsOn: string[], attempts: AttemptRecord[], continuedBy: string[] = []): SessionRecord {
  const { outputFileCount, outputBytes, outputSkipped, logBytes, logDroppedBytes, ...fields } = row;
  return {
    ...fields,
    output: outputFileCount === null ? null : { files: outputFileCount, bytes: outputBytes ?? 0, skipped: outputSkipped ?? 0 },
    log: logBytes === null ? null : { bytes: logBytes, droppedBytes: logDroppedBytes ?? 0 },
    dependsOn,
    attempts,
    continuedBy,
  };
}

/** The column values of a transition's changes: the grouped counts spread back into their columns. */
export function changedColumns(changes: SessionChanges): Partial<SessionEntity> {
  const { output, log, incrementAttempt: _, startNewRun: __, ...columns } = changes;
  return {
    ...columns,
    ...(output && { outputFileCount: output.files, outputBytes: output.bytes, outputSkipped: output.skipped }),
    ...(log && { logBytes: log.bytes, logDroppedBytes: log.droppedBytes }),
  };
}

export function toSessionView(record: SessionRecord): SessionView {
  return {
    id: record.id,
    orchestrationId: record.orchestrationId,
    name: record.name,
    type: record.type,
    status: record.status,
    statusReason: record.statusReason,
    exitCode: record.exitCode,
    containerId: record.containerId,
    runnerId: record.runnerId,
    image: record.image,
    repository: record.repository,
    branch: record.branch,
    timeoutSeconds: record.timeoutSeconds,
    runnerLabels: record.runnerLabels,
    dependsOn: record.dependsOn,
    retries: record.retries,
    attempt: record.attempt,
    attempts: record.attempts,
    log: record.log,
    output: record.output,
    changes: record.changes,
    egress: record.egressTraffic,
    usage: record.usage,
    continues: record.continues,
    continuedBy: record.continuedBy,
    createdAt: record.createdAt.toISOString(),
    startedAt: record.startedAt?.toISOString() ?? null,
    finishedAt: record.finishedAt?.toISOString() ?? null,
  };
}
