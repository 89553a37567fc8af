import { judgeLease, leaseGraceMs, RunnerSighting } from './lease-decision';

// When a runner's lease lapses, given its last heartbeat and how long the registry has been watching.

const NOW = new Date('2026-01-10T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const view = (overrides: Partial<Parameters<typeof judgeLease>[2]> = {}) => ({
  now: NOW,
  watchingSince: ago(3_600_000),
  graceMs: 30_000,
  checkEveryMs: 5_000,
  defaultHeartbeatEveryMs: 10_000,
  ...overrides,
});
const sighting = (lastSeenMsAgo: number, heartbeatEveryMs = 10_000): RunnerSighting => ({
  revision: '7',
  lastSeenAt: ago(lastSeenMsAgo),
  heartbeatEveryMs,
  lostAt: null,
});

describe('judgeLease', () => {
  it('keeps a runner heard within the grace, and loses one silent for longer', () => {
    expect(judgeLease('a', sighting(29_000), view())).toMatchObject({ lost: false, silentMs: 29_000, graceMs: 30_000 });
    expect(judgeLease('a', sighting(31_000), view())).toMatchObject({ lost: true, silentMs: 31_000 });
  });

  it('counts silence from when the registry began to watch, never before (a registry that just started loses no one)', () => {
    const judged = judgeLease('a', sighting(3_600_000), view({ watchingSince: ago(10_000) }));
    expect(judged).toMatchObject({ lost: false, silentMs: 10_000 });
    expect(judged.silentSince).toEqual(ago(10_000));
  });

  it('gives a runner it never saw (known only from the sessions it holds) the grace from when it began to watch', () => {
    expect(judgeLease('a', undefined, view({ watchingSince: ago(20_000) })).lost).toBe(false);
    expect(judgeLease('a', undefined, view({ watchingSince: ago(40_000) })).lost).toBe(true);
  });

  it('never counts a runner lost before it missed two of its own heartbeats, whatever the grace', () => {
    expect(leaseGraceMs(5_000, 1_000, 1_000)).toBe(5_000);
    expect(leaseGraceMs(5_000, 10_000, 2_000)).toBe(22_000);
    expect(judgeLease('a', sighting(15_000, 10_000), view({ graceMs: 5_000, checkEveryMs: 2_000 })).lost).toBe(false);
    expect(judgeLease('a', sighting(15_000, 1_000), view({ graceMs: 5_000, checkEveryMs: 2_000 })).lost).toBe(true);
  });
});
