import { MAX_RETRY_BACKOFF_MS, retryBackoffMs } from './retry-backoff';

describe('retryBackoffMs', () => {
  it('waits the base before the first retry, and twice as long before each retry after it', () => {
    expect([1, 2, 3, 4, 5].map((retry) => retryBackoffMs(1_000, retry))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
    expect([1, 2, 3].map((retry) => retryBackoffMs(200, retry))).toEqual([200, 400, 800]);
  });

  it('never waits longer than five minutes', () => {
    expect(MAX_RETRY_BACKOFF_MS).toBe(300_000);
    expect(retryBackoffMs(1_000, 9)).toBe(256_000);
    expect(retryBackoffMs(1_000, 10)).toBe(300_000);
    expect(retryBackoffMs(1_000, 60)).toBe(300_000);
    expect(retryBackoffMs(600_000, 1)).toBe(300_000);
  });

  it('does not wait with a base of 0', () => {
    expect(retryBackoffMs(0, 5)).toBe(0);
  });
});
