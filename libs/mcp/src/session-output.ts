import { z } from 'zod';
import { HubError, OutputFileSchema, SessionOutputSchema } from '@hub/contracts';
import type { HubClient } from './hub-client.port';

/** Output files up to this size are inlined when they are UTF-8 text... */
export const INLINE_FILE_MAX_BYTES = 32 * 1024;
/** ...as long as the inlined files of one answer stay under this. */
export const INLINE_TOTAL_MAX_BYTES = 256 * 1024;
/** Lines of the log that get_session_output shows. */
export const OUTPUT_LOG_TAIL_LINES = 20;
export const DEFAULT_LOG_TAIL_LINES = 100;
export const MAX_LOG_TAIL_LINES = 10_000;

export const SessionOutputResultSchema = SessionOutputSchema.extend({
  files: z.array(
    OutputFileSchema.extend({
      /** The file's text, for small UTF-8 files. */
      content: z.string().optional(),
      /** Why the content is not inlined. */
      contentOmitted: z.string().optional(),
    }),
  ),
  /** The last lines of the log, or null while the session has no stored log. */
  logTail: z.string().nullable(),
});
export type SessionOutputResult = z.infer<typeof SessionOutputResultSchema>;

export const SessionLogsResultSchema = z.object({
  sessionId: z.string(),
  /** Lines in the whole log. */
  totalLines: z.number().int(),
  /** Lines in `log`: the last `tail` of them. */
  lines: z.number().int(),
  truncated: z.boolean(),
  log: z.string(),
});
export type SessionLogsResult = z.infer<typeof SessionLogsResultSchema>;

/** The lines of a log; a final newline does not make an empty last line. */
function linesOf(log: string): string[] {
  if (log === '') return [];
  const lines = log.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export async function sessionLogs(hub: HubClient, sessionId: string, tail: number): Promise<SessionLogsResult> {
  const all = linesOf(await hub.getSessionLogs(sessionId));
  const kept = all.slice(-tail);
  return { sessionId, totalLines: all.length, lines: kept.length, truncated: kept.length < all.length, log: kept.join('\n') };
}

/** UTF-8 text without NUL, or null for anything that looks binary. */
function asText(bytes: Buffer): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * A session's output as an assistant wants it: exit code, files with the content of the small text
 * ones, and the tail of the log. A file that cannot be read is listed with the reason.
 */
export async function sessionOutputWithContents(hub: HubClient, sessionId: string): Promise<SessionOutputResult> {
  const output = await hub.getSessionOutput(sessionId);
  let budget = INLINE_TOTAL_MAX_BYTES;
  const files: SessionOutputResult['files'] = [];
  for (const file of output.files) {
    if (file.size > INLINE_FILE_MAX_BYTES) {
      files.push({ ...file, contentOmitted: `larger than ${INLINE_FILE_MAX_BYTES} bytes` });
      continue;
    }
    if (file.size > budget) {
      files.push({ ...file, contentOmitted: `the files before it already fill the ${INLINE_TOTAL_MAX_BYTES} bytes inlined per answer` });
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await hub.readOutputFile(sessionId, file.path);
    } catch (error) {
      if (!(error instanceof HubError)) throw error;
      files.push({ ...file, contentOmitted: error.message });
      continue;
    }
    const text = asText(bytes);
    if (text === null) {
      files.push({ ...file, contentOmitted: 'not UTF-8 text' });
      continue;
    }
    budget -= bytes.length;
    files.push({ ...file, content: text });
  }
  return { ...output, files, logTail: await logTail(hub, sessionId) };
}

async function logTail(hub: HubClient, sessionId: string): Promise<string | null> {
  try {
    return (await sessionLogs(hub, sessionId, OUTPUT_LOG_TAIL_LINES)).log;
  } catch (error) {
    // A session that has not run yet, or never will, has no log: that is not a failure here.
    if (error instanceof HubError && error.code === 'not_found') return null;
    throw error;
  }
}
