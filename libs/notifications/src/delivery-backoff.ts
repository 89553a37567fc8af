/** The wait before the first retry of a delivery; each further one waits twice as long, at most MAX_RETRY_DELAY_MS. */
export const FIRST_RETRY_DELAY_MS = 1_000;
export const MAX_RETRY_DELAY_MS = 10 * 60_000;
export const DEFAULT_MAX_ATTEMPTS = 8;

/** How long to wait after failed attempt `attempt` (1, 2, …): 1 s, 2 s, 4 s … capped at 10 min. */
export function retryDelayMs(attempt: number, firstDelayMs = FIRST_RETRY_DELAY_MS): number {
  return Math.min(firstDelayMs * 2 ** Math.max(0, attempt - 1), MAX_RETRY_DELAY_MS);
}

/** After failed attempt `attempt`: try again after a delay, or give up once `maxAttempts` were made. */
export function afterFailedAttempt(
  attempt: number,
  maxAttempts: number,
  firstDelayMs = FIRST_RETRY_DELAY_MS,
): { status: 'pending'; retryInMs: number } | { status: 'failed' } {
  return attempt >= maxAttempts ? { status: 'failed' } : { status: 'pending', retryInMs: retryDelayMs(attempt, firstDelayMs) };
}
