import { z } from 'zod';
import { ChangedFileSchema, ChangeSummarySchema, MAX_SKIPPED_NAMED, OutputFileSchema, SkippedOutputSchema } from './sessions/session.schemas';

/** Where runners keep what a session leaves behind, in the NATS object store. */
export const OUTPUT_BUCKET = 'hub-session-output';
/** Runners store logs, outputs and changes, and read their dependencies'; the gateway serves them. */
export const OUTPUT_BUCKET_ACCESS = {
  writtenBy: 'container-runner',
  readBy: ['gateway', 'container-runner'],
} as const;

/** Each attempt's log (the first HUB_LOG_CAP_MB of it): every attempt's is kept. */
export const logObjectName = (sessionId: string, attempt: number) => `${sessionId}/logs/${attempt}`;
/**
 * The one log a session had before each attempt had its own: its latest attempt's then (each attempt
 * overwrote it). Read as the latest attempt's log when that has none of its own, so nothing stored is lost.
 */
export const sessionLogObjectName = (sessionId: string) => `${sessionId}/log`;
export const outputObjectName = (sessionId: string, path: string) => `${sessionId}/output/${path}`;
/** The listing of a session's output files (OutputManifest, JSON): file lists travel by reference, never on a NATS message. */
export const manifestObjectName = (sessionId: string) => `${sessionId}/manifest`;
/**
 * Captured changes: a git bundle of base..head, its unified diff (capped), and its changed files
 * (JSON), under a key: a session's id, or `orchestrationChangesKey` for an orchestration's combined result.
 */
export const changesBundleObjectName = (key: string) => `${key}/changes/bundle`;
export const changesDiffObjectName = (key: string) => `${key}/changes/diff`;
export const changesListObjectName = (key: string) => `${key}/changes/files`;
export const orchestrationChangesKey = (orchestrationId: string) => `orchestrations/${orchestrationId}`;
/** What every object of a session is named under (its logs, output files, manifest, changes): what its deletion removes. */
export const sessionObjectsPrefix = (sessionId: string) => `${sessionId}/`;
/** What every object of an orchestration's own is named under (its combined result): what its deletion removes. */
export const orchestrationObjectsPrefix = (orchestrationId: string) => `${orchestrationChangesKey(orchestrationId)}/`;
/**
 * The whole history up to a commit some captured changes start from (a git bundle of it, one ref
 * `refs/hub/base`): what a copy of the branches needs besides their bundles (git fetch from Hub).
 * A commit names its history, so one object serves every session that started there.
 */
export const baseBundleObjectName = (commit: string) => `bases/${commit}.bundle`;

/**
 * The longest output path (UTF-8 bytes, relative to /hub/output) a runner keeps. Longer ones are
 * listed as skipped: the object store names objects by path, and NATS caps a subject's length.
 */
export const MAX_OUTPUT_PATH_BYTES = 1024;
/** No manifest lists more files than this, whatever a runner's own limit. */
export const MAX_MANIFEST_FILES = 100_000;

/** What a session's attempt left in /hub/output: the files kept (in the object store) and those not kept, and why. */
export const OutputManifestSchema = z.object({
  sessionId: z.string(),
  attempt: z.number().int().min(1),
  files: z.array(OutputFileSchema).max(MAX_MANIFEST_FILES),
  skipped: z.array(SkippedOutputSchema).max(MAX_SKIPPED_NAMED),
  skippedCount: z.number().int().nonnegative(),
});
export type OutputManifest = z.infer<typeof OutputManifestSchema>;

/** At most this many changed files are listed per session; the summary counts them all. */
export const MAX_CHANGED_FILES_LISTED = 1000;

/** A session's captured changes as stored (`changesListObjectName`): the summary and the files changed. */
export const StoredChangesSchema = z.object({
  summary: ChangeSummarySchema,
  files: z.array(ChangedFileSchema).max(MAX_CHANGED_FILES_LISTED),
  /** The diff (`changesDiffObjectName`) was cut at the runner's cap. */
  diffTruncated: z.boolean(),
});
export type StoredChanges = z.infer<typeof StoredChangesSchema>;
