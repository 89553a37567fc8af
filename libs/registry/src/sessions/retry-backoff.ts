/** The longest a failed session waits for its next attempt, however many came before. */
export const MAX_RETRY_BACKOFF_MS = 5 * 60_000;

/**
 * How long a failed session waits before its retry number `retry` (1 for the first): the base
 * (HUB_RETRY_BACKOFF_MS), doubled for each retry before it, at most MAX_RETRY_BACKOFF_MS.
 */
export function retryBackoffMs(baseMs: number, retry: number): number {
  return Math.min(baseMs * 2 ** (retry - 1), MAX_RETRY_BACKOFF_MS);
}
