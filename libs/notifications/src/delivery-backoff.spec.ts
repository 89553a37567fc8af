import { afterFailedAttempt, MAX_RETRY_DELAY_MS, retryDelayMs } from './delivery-backoff';

describe('the retry schedule of a delivery', () => {
  it('waits 1 s after the first failed attempt, doubling after each next one, at most 10 min', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelayMs(attempt))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(retryDelayMs(10)).toBe(512_000);
    expect(retryDelayMs(11)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(60)).toBe(10 * 60_000);
    expect(retryDelayMs(3, 100)).toBe(400);
  });

  it('gives up once the last allowed attempt failed', () => {
    expect(afterFailedAttempt(1, 8)).toEqual({ status: 'pending', retryInMs: 1_000 });
    expect(afterFailedAttempt(7, 8)).toEqual({ status: 'pending', retryInMs: 64_000 });
    expect(afterFailedAttempt(8, 8)).toEqual({ status: 'failed' });
    expect(afterFailedAttempt(1, 1)).toEqual({ status: 'failed' });
  });
});
