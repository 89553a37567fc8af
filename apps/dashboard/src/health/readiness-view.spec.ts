import { groupChecks, runnersFromList, runnerSlots } from './readiness-view';

const checks = [
  { name: 'nats', ok: true, detail: 'connected' },
  { name: 'jetstream stream HUB_EVENTS', ok: true, detail: '12 events stored' },
  { name: 'gateway/restarts', ok: true, detail: 'never restarted' },
  { name: 'session-registry', ok: true, detail: 'session-registry answered' },
  { name: 'session-registry/postgres', ok: false, detail: 'connection refused', fix: 'start PostgreSQL' },
  { name: 'container-runner', ok: true, detail: 'container-runner runner-7f3a answered' },
  { name: 'container-runner/docker', ok: true, detail: 'engine reachable; 3/8 slots in use' },
];

describe('the readiness report on the health page', () => {
  it('groups the checks by part of Hub, a group failing when one of its checks does', () => {
    expect(groupChecks(checks).map((group) => [group.name, group.ok, group.checks.length])).toEqual([
      ['nats', true, 2],
      ['gateway', true, 1],
      ['session-registry', false, 2],
      ['container-runner', true, 2],
    ]);
  });

  it("reads the slots in use of the runner that answered", () => {
    expect(runnerSlots(checks)).toEqual([{ runner: 'runner-7f3a', used: 3, capacity: 8 }]);
    expect(runnerSlots(checks.filter((check) => check.name !== 'container-runner/docker'))).toEqual([]);
    expect(runnerSlots([{ name: 'container-runner', ok: false, detail: 'no answer', fix: 'restart it' }])).toEqual([]);
  });
});

describe('the runners list on the health page', () => {
  it('shows every runner, those alive first, with its slots, labels and sessions held', () => {
    const runner = (runnerId: string, status: 'alive' | 'lost', inUse: number) => ({
      runnerId,
      status,
      labels: runnerId === 'b' ? ['gpu'] : [],
      slots: 4,
      inUse,
      startedAt: null,
      version: null,
      lastSeenAt: '2026-11-29T10:00:00.000Z',
      silentSeconds: 1,
      graceSeconds: 30,
      lostAt: null,
      holds: inUse,
    });
    const list = { runners: [runner('c', 'lost', 0), runner('b', 'alive', 3), runner('a', 'alive', 1)], leaseGraceSeconds: 30, watchingSince: null };
    expect(runnersFromList(list).map((r) => [r.runner, r.status, r.used, r.capacity, r.labels])).toEqual([
      ['a', 'alive', 1, 4, []],
      ['b', 'alive', 3, 4, ['gpu']],
      ['c', 'lost', 0, 4, []],
    ]);
  });
});
