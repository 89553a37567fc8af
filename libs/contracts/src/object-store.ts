import { z } from 'zod';
import { MAX_SKIPPED_NAMED, OutputFileSchema, SkippedOutputSchema } from './sessions/session.schemas';

/** Where runners keep what a session leaves behind, in the NATS object store. */
export const OUTPUT_BUCKET = 'hub-session-output';

export const logObjectName = (sessionId: string) => `${sessionId}/log`;
export const outputObjectName = (sessionId: string, path: string) => `${sessionId}/output/${path}`;
/** The listing of a session's output files (OutputManifest, JSON): file lists travel by reference, never on a NATS message. */
export const manifestObjectName = (sessionId: string) => `${sessionId}/manifest`;

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
