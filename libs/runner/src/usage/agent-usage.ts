import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AGENT_USAGE_FILE,
  type AgentUsageReport,
  AgentUsageReportSchema,
  MAX_AGENT_USAGE_FILE_BYTES,
  type RateLimit,
  type Usage,
  usageOf,
} from '@hub/contracts';

/** How long a rate limit is waited out when the agent does not say (HUB_RATE_LIMIT_WAIT_SECONDS), and at most (…_MAX_…). */
export interface RateLimitWait {
  defaultSeconds: number;
  maxSeconds: number;
}

export const DEFAULT_RATE_LIMIT_WAIT: RateLimitWait = { defaultSeconds: 60, maxSeconds: 6 * 3600 };

/** The longest rate-limit message reported (RateLimitSchema). */
const MAX_MESSAGE_CHARS = 300;
const NO_MESSAGE = 'the agent reported a rate or usage limit';

/** What an attempt's agent reported: its usage and the rate limit it hit, or why its report was ignored. */
export interface AgentUsage {
  usage: Usage | null;
  rateLimit: RateLimit | null;
  /** Why usage.json was ignored (for the session's log; never its content); null when it was read or absent. */
  problem: string | null;
}

export interface AgentUsageOptions {
  /** The attempt failed (exited non-zero): only then is a reported rate limit taken as its cause. */
  failed: boolean;
  wait: RateLimitWait;
  /** Masks secrets and host paths in the agent's message (RunnerSecrets.maskText, AttemptFiles.scrub). */
  scrub: (text: string) => string;
  now?: Date;
}

/**
 * The agent's usage report, `<outputDir>/usage.json`, read as hostile input: a regular file only (a
 * symbolic link is never followed), at most MAX_AGENT_USAGE_FILE_BYTES, valid JSON that
 * AgentUsageReportSchema accepts; anything else is ignored whole, saying why. Usage counts whatever
 * the attempt's outcome (what was spent was spent); a rate limit only when the attempt failed.
 * Never throws: the report cannot change the attempt's outcome.
 */
export async function readAgentUsage(outputDir: string, options: AgentUsageOptions): Promise<AgentUsage> {
  const read = await readUsageReport(outputDir);
  if (!read.report) return { usage: null, rateLimit: null, problem: read.problem };
  const { tokens, costUsd, rateLimit } = read.report;
  return {
    usage: usageOf(tokens, costUsd ?? null),
    rateLimit: rateLimit && options.failed ? rateLimitOf(rateLimit, options) : null,
    problem: null,
  };
}

/** The report, or why there is none to take: null `problem` when the agent left no usage.json. */
export async function readUsageReport(outputDir: string): Promise<{ report: AgentUsageReport | null; problem: string | null }> {
  const ignored = (problem: string) => ({ report: null, problem });
  let content: Buffer | string | null;
  try {
    content = await readBounded(join(outputDir, AGENT_USAGE_FILE));
  } catch (error) {
    return ignored(`could not be read (${codeOf(error)})`);
  }
  if (content === null) return { report: null, problem: null };
  if (typeof content === 'string') return ignored(content);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return ignored('not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return ignored('not valid JSON');
  }
  const parsed = AgentUsageReportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return ignored(`not a usage report: ${where}${issue?.message ?? 'invalid'}`.slice(0, 300));
  }
  return { report: parsed.data, problem: null };
}

/**
 * The file's bytes; null when there is none; a string saying why it is not read (a link, not a
 * regular file, too large). Opened without following a link (one put in place since lstat) and
 * without blocking (a FIFO), and never more than the limit read.
 */
async function readBounded(path: string): Promise<Buffer | string | null> {
  const stats = await lstat(path).catch((error: unknown) => {
    if (codeOf(error) === 'ENOENT') return null;
    throw error;
  });
  if (!stats) return null;
  if (stats.isSymbolicLink()) return 'a symbolic link (not followed)';
  if (!stats.isFile()) return 'not a regular file';
  if (stats.size > MAX_AGENT_USAGE_FILE_BYTES) return tooLarge(stats.size);
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (codeOf(error) === 'ELOOP') return 'a symbolic link (not followed)';
    throw error;
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) return 'not a regular file';
    // One byte more than the limit tells a file that grew since lstat.
    const buffer = Buffer.alloc(MAX_AGENT_USAGE_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_AGENT_USAGE_FILE_BYTES) return tooLarge(Math.max(opened.size, length));
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function tooLarge(size: number): string {
  return `larger than ${MAX_AGENT_USAGE_FILE_BYTES} bytes (${size} bytes)`;
}

/**
 * When the limit resets: the agent's resetAt, else now + its retryAfterSeconds, else now + the
 * runner's default wait; never before now, nor after now + the runner's maximum wait. The message
 * without control characters, secrets masked, at most 300 characters.
 */
export function rateLimitOf(reported: NonNullable<AgentUsageReport['rateLimit']>, options: Omit<AgentUsageOptions, 'failed'>): RateLimit {
  const now = (options.now ?? new Date()).getTime();
  const wanted =
    reported.resetAt !== undefined
      ? Date.parse(reported.resetAt)
      : now + (reported.retryAfterSeconds ?? options.wait.defaultSeconds) * 1000;
  const resetAt = Math.min(Math.max(wanted, now), now + options.wait.maxSeconds * 1000);
  return { resetAt: new Date(resetAt).toISOString(), message: cleanMessage(reported.message ?? '', options.scrub) };
}

/** Line breaks and tabs become spaces, other control and format characters go; masked before it is cut. */
function cleanMessage(message: string, scrub: (text: string) => string): string {
  const plain = message
    .replace(/[\t\n\r\v\f]+/g, ' ')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .replace(/ {2,}/g, ' ')
    .trim();
  const masked = plain ? scrub(plain) : NO_MESSAGE;
  return cut(masked, MAX_MESSAGE_CHARS);
}

/** At most `max` UTF-16 units, never ending halfway through a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]!) ? max - 1 : max;
  return text.slice(0, end);
}

function codeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'I/O error';
}
