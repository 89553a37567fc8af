import { createLogger } from '@hub/config';
import { RecheckWaitingSessions } from './recheck-waiting-sessions';
import { ResolveDependencies } from './resolve-dependencies.use-case';

/** Counts the re-checks asked of it; fails them while `failing`. */
class CountingResolver {
  rechecks = 0;
  failing = false;

  async recheckWaiting(): Promise<number> {
    this.rechecks++;
    if (this.failing) throw new Error('registry unavailable');
    return 0;
  }
}

describe('RecheckWaitingSessions', () => {
  let resolver: CountingResolver;
  let recheck: RecheckWaitingSessions;

  beforeEach(() => {
    jest.useFakeTimers();
    resolver = new CountingResolver();
    recheck = new RecheckWaitingSessions(
      resolver as unknown as ResolveDependencies,
      { recheckIntervalMs: 30_000 },
      createLogger('recheck-test', 'silent'),
    );
  });

  afterEach(() => {
    recheck.onApplicationShutdown();
    jest.useRealTimers();
  });

  it('re-checks as the application starts, then every interval, until it shuts down', async () => {
    expect(resolver.rechecks).toBe(0);
    recheck.onApplicationBootstrap();
    expect(resolver.rechecks).toBe(1);
    await jest.advanceTimersByTimeAsync(29_999);
    expect(resolver.rechecks).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(resolver.rechecks).toBe(2);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(resolver.rechecks).toBe(4);
    recheck.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(120_000);
    expect(resolver.rechecks).toBe(4);
  });

  it('goes on after a re-check fails', async () => {
    resolver.failing = true;
    recheck.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(30_000);
    resolver.failing = false;
    await jest.advanceTimersByTimeAsync(30_000);
    expect(resolver.rechecks).toBe(3);
  });
});
