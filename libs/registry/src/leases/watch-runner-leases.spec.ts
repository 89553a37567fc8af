import { createLogger } from '@hub/config';
import { RunnerHeartbeats, RunnerObservation } from '@hub/messaging';
import { RunnerEntity } from '@hub/persistence';
import { TEST_REGISTRY_SETTINGS } from '@hub/registry-testing';
import { LeaseLapse, RequeueLostRunnerSessions } from './requeue-lost-runner-sessions.use-case';
import { RunnerLeaseStore, RunnerSeen } from './runner-lease-store';
import { WatchRunnerLeases } from './watch-runner-leases';

// The lease watch with its ports in memory, on a fake clock: what it takes from whom, and when it
// takes nothing because it cannot tell.

/** The heartbeats bucket: each put a new revision; `down` makes reading it fail, `absent` as if it did not exist. */
class InMemoryHeartbeats {
  private revision = 0;
  readonly entries = new Map<string, RunnerObservation>();
  down = false;
  absent = false;

  put(runnerId: string): void {
    const heartbeat = { runnerId, startedAt: new Date().toISOString(), slots: 2, inUse: 1, labels: [], heartbeatEveryMs: 1_000 };
    this.entries.set(runnerId, { ok: true, heartbeat, revision: ++this.revision });
  }

  async observe(): Promise<Map<string, RunnerObservation> | null> {
    if (this.down) throw new Error('TIMEOUT');
    return this.absent ? null : new Map(this.entries);
  }
}

class InMemoryLeaseStore {
  readonly rows = new Map<string, Partial<RunnerEntity> & { id: string }>();
  readonly held = new Map<string, number>();

  async all(): Promise<Partial<RunnerEntity>[]> {
    return [...this.rows.values()];
  }
  async recordSeen(rows: RunnerSeen[]): Promise<void> {
    for (const row of rows) this.rows.set(row.id, { ...row, lostAt: null });
  }
  async recordLost(runnerId: string, at: Date, lastSeenAt: Date): Promise<void> {
    this.rows.set(runnerId, { ...(this.rows.get(runnerId) ?? { id: runnerId, lastSeenAt }), lostAt: at });
  }
  async holders(): Promise<Map<string, number>> {
    return new Map(this.held);
  }
  async forgetSilentSince(): Promise<string[]> {
    return [];
  }
}

class RecordingRequeue {
  readonly lapses: LeaseLapse[] = [];
  constructor(private readonly store: InMemoryLeaseStore) {}
  async execute(lapse: LeaseLapse): Promise<number> {
    this.lapses.push(lapse);
    const held = this.store.held.get(lapse.runnerId) ?? 0;
    this.store.held.delete(lapse.runnerId);
    return held;
  }
}

describe('WatchRunnerLeases', () => {
  let heartbeats: InMemoryHeartbeats;
  let store: InMemoryLeaseStore;
  let requeue: RecordingRequeue;

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-01-10T12:00:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
    heartbeats = new InMemoryHeartbeats();
    store = new InMemoryLeaseStore();
    requeue = new RecordingRequeue(store);
  });
  afterEach(() => jest.useRealTimers());

  const watch = (graceSeconds = 5) =>
    new WatchRunnerLeases(
      heartbeats as unknown as RunnerHeartbeats,
      store as unknown as RunnerLeaseStore,
      requeue as unknown as RequeueLostRunnerSessions,
      { ...TEST_REGISTRY_SETTINGS, leaseGraceSeconds: graceSeconds },
      createLogger('test', 'silent'),
    );
  const advance = (ms: number) => jest.setSystemTime(Date.now() + ms);

  it("takes a silent runner's sessions once past the grace, and nobody else's", async () => {
    const leases = watch();
    heartbeats.put('a');
    heartbeats.put('b');
    store.held.set('a', 3).set('b', 1);
    await leases.runOnce();
    for (let second = 0; second < 6; second++) {
      advance(1_000);
      heartbeats.put('b');
      await leases.runOnce();
    }
    expect(requeue.lapses).toEqual([{ runnerId: 'a', lastSeenAt: new Date('2026-01-10T12:00:00Z'), graceSeconds: 5 }]);
    expect(store.rows.get('a')?.lostAt).toEqual(new Date('2026-01-10T12:00:06Z'));
    expect(store.held.get('b')).toBe(1);

    // It comes back: alive again, and nothing more is taken.
    heartbeats.put('a');
    advance(1_000);
    await leases.runOnce();
    expect(leases.judge('a')?.lost).toBe(false);
    expect(store.rows.get('a')?.lostAt).toBeNull();
  });

  it('takes nothing while it cannot read the heartbeats, and counts silence only from when it can again', async () => {
    const leases = watch();
    heartbeats.put('a');
    store.held.set('a', 1);
    await leases.runOnce();
    heartbeats.down = true;
    advance(60_000);
    expect(await leases.runOnce()).toBeNull();
    expect(leases.watching).toBeNull();
    expect(leases.judge('a')).toBeNull();

    // NATS is back; the runner has not put a heartbeat yet (it could not either): a full grace from now.
    heartbeats.down = false;
    await leases.runOnce();
    advance(4_000);
    await leases.runOnce();
    expect(requeue.lapses).toEqual([]);
    advance(2_000);
    await leases.runOnce();
    expect(requeue.lapses.map((l) => l.runnerId)).toEqual(['a']);
  });

  it('takes nothing before any runner has made the bucket', async () => {
    const leases = watch();
    heartbeats.absent = true;
    store.held.set('old-runner', 2);
    for (let second = 0; second < 10; second++) {
      advance(1_000);
      await leases.runOnce();
    }
    expect(requeue.lapses).toEqual([]);
  });

  it('remembers across a restart when a runner was last seen, and still gives it a full grace', async () => {
    heartbeats.put('a');
    await watch().runOnce();
    store.held.set('a', 1);
    advance(3_600_000);
    const restarted = watch();
    await restarted.runOnce();
    expect(requeue.lapses).toEqual([]);
    expect(restarted.judge('a')).toMatchObject({ lost: false, silentMs: 0 });
    advance(6_000);
    await restarted.runOnce();
    // Its reason names when it was really last heard: an hour ago.
    expect(requeue.lapses).toEqual([{ runnerId: 'a', lastSeenAt: new Date('2026-01-10T12:00:00Z'), graceSeconds: 5 }]);
  });
});
