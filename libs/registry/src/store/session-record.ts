import type { OutputFile, SessionStatus, SessionView } from '@hub/contracts';

/** A session as the registry holds it. */
export interface SessionRecord {
  id: string;
  seq: string;
  orchestrationId: string;
  name: string | null;
  type: string;
  prompt: string;
  image: string;
  repository: string | null;
  branch: string | null;
  timeoutSeconds: number;
  status: SessionStatus;
  statusReason: string | null;
  exitCode: number | null;
  oomKilled: boolean | null;
  containerId: string | null;
  runnerId: string | null;
  attempt: number;
  retries: number;
  attempts: AttemptRecord[];
  /** When it became ready, or may start after a retry's backoff. */
  readyAt: Date | null;
  dispatchedAt: Date | null;
  /** Output files recorded before manifests held the lists (older sessions only). */
  legacyOutputFiles: OutputFile[];
  /** Set once the runner reported the container's end: files kept, their bytes, entries not kept. */
  output: { files: number; bytes: number; skipped: number } | null;
  log: { bytes: number; droppedBytes: number } | null;
  cancelRequestedAt: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
  dependsOn: string[];
}

export interface AttemptRecord {
  attempt: number;
  status: SessionStatus;
  reason: string | null;
  exitCode: number | null;
  containerId: string | null;
  finishedAt: string;
}

/** Fields a transition may set besides the status. */
export interface SessionChanges {
  statusReason?: string | null;
  exitCode?: number | null;
  oomKilled?: boolean | null;
  containerId?: string | null;
  runnerId?: string | null;
  output?: { files: number; bytes: number; skipped: number };
  log?: { bytes: number; droppedBytes: number };
  cancelRequestedAt?: Date | null;
  startedAt?: Date | null;
  finishedAt?: Date | null;
  readyAt?: Date | null;
  dispatchedAt?: Date | null;
  incrementAttempt?: boolean;
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
    image: record.image,
    repository: record.repository,
    branch: record.branch,
    timeoutSeconds: record.timeoutSeconds,
    dependsOn: record.dependsOn,
    retries: record.retries,
    attempt: record.attempt,
    attempts: record.attempts,
    log: record.log,
    output: record.output,
    createdAt: record.createdAt.toISOString(),
    startedAt: record.startedAt?.toISOString() ?? null,
    finishedAt: record.finishedAt?.toISOString() ?? null,
  };
}
