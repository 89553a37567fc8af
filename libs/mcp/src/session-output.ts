import { z } from 'zod';
import { HubError } from '@hub/contracts';
import { HubApi, readText, SessionOutputWithContentsSchema } from '@hub/hub-api';

/** Lines of the log that get_session_output shows. */
export const OUTPUT_LOG_TAIL_LINES = 20;
export const DEFAULT_LOG_TAIL_LINES = 100;
export const MAX_LOG_TAIL_LINES = 10_000;

/** get_session_output: the output with the small text files inlined (HubApi's one rule), and the tail of the log. */
export const SessionOutputResultSchema = SessionOutputWithContentsSchema.extend({
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

export async function sessionLogs(hub: HubApi, sessionId: string, tail: number): Promise<SessionLogsResult> {
  const all = linesOf(await readText(await hub.sessionLog(sessionId)));
  const kept = all.slice(-tail);
  return { sessionId, totalLines: all.length, lines: kept.length, truncated: kept.length < all.length, log: kept.join('\n') };
}

/**
 * A session's output as an assistant wants it: exit code, files with the content of the small text
 * ones (a file that cannot be read is listed with the reason), and the tail of the log.
 */
export async function sessionOutputWithContents(hub: HubApi, sessionId: string): Promise<SessionOutputResult> {
  const output = await hub.getSessionOutputWithContents(sessionId);
  return { ...output, logTail: await logTail(hub, sessionId) };
}

async function logTail(hub: HubApi, sessionId: string): Promise<string | null> {
  try {
    return (await sessionLogs(hub, sessionId, OUTPUT_LOG_TAIL_LINES)).log;
  } catch (error) {
    // A session that has not run yet, or never will, has no log: that is not a failure here.
    if (error instanceof HubError && error.code === 'not_found') return null;
    throw error;
  }
}
