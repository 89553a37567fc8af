import type { HubLogger } from '@hub/config';

export interface RetryOptions {
  /** What is being tried, for the log: "storing the log". */
  what: string;
  log: HubLogger;
  /** Give up (rethrow the last error) once this much time has passed. */
  patienceMs: number;
  /** Errors that no retry can fix (a message too large, say) are rethrown at once. */
  isPermanent?: (error: unknown) => boolean;
}

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 5_000;

/**
 * Runs `call` until it succeeds, backing off 100 ms, 200 ms, … up to 5 s between tries (NATS
 * restarting takes seconds), and gives up after `patienceMs`: every retry in the runner is bounded,
 * so no session waits forever on a call that cannot succeed.
 */
export async function retry<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const deadline = Date.now() + options.patienceMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (options.isPermanent?.(error) || Date.now() >= deadline) throw error;
      const delay = Math.min(FIRST_DELAY_MS * 2 ** attempt, MAX_DELAY_MS, Math.max(0, deadline - Date.now()));
      options.log.warn({ err: (error as Error).message, retryInMs: delay }, `${options.what} failed; retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** NATS refuses a message over its max_payload: sending it again cannot help. */
export function isPayloadTooLarge(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return code === 'MAX_PAYLOAD_EXCEEDED' || /max.?payload/i.test(message ?? '');
}
