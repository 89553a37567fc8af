import { decideCleanup, JanitorContainer, JanitorView } from './janitor-decision';

// Which containers and session directories the janitor removes, given the heartbeats, the labels and
// the times it sees.

const NOW = new Date('2026-01-10T12:00:00Z');
const HOUR = 3_600_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms);

function container(id: string, runnerId: string | null, state: string, times: { created?: number; started?: number | null; finished?: number | null } = {}, sessionId: string | null = `s-${id}`): JanitorContainer {
  const created = ago(times.created ?? 5 * HOUR);
  return {
    containerId: id,
    runnerId,
    sessionId,
    helper: null,
    state,
    createdAt: created,
    times: {
      startedAt: times.started === null ? null : ago(times.started ?? 5 * HOUR),
      finishedAt: times.finished === null || times.finished === undefined ? null : ago(times.finished),
    },
  };
}

function view(overrides: Partial<JanitorView> = {}): JanitorView {
  return {
    now: NOW,
    runnerId: 'me',
    graceMs: HOUR,
    presentRunners: new Set(['me', 'alive']),
    absentSince: new Map(),
    containers: [],
    sessionsWithContainers: [],
    directories: [],
    holds: () => false,
    ...overrides,
  };
}

const removedIds = (v: JanitorView) => decideCleanup(v).containers.map((r) => r.container.containerId);

describe('decideCleanup: containers', () => {
  it('removes a container of a runner without a heartbeat that finished longer than the grace ago', () => {
    const decision = decideCleanup(view({ containers: [container('c1', 'gone', 'exited', { finished: 2 * HOUR })] }));

    expect(decision.containers).toHaveLength(1);
    expect(decision.containers[0].why).toBe('runner gone has no heartbeat; the container finished 2.0 h ago (grace 60 min)');
  });

  it('keeps one that finished within the grace', () => {
    expect(removedIds(view({ containers: [container('c1', 'gone', 'exited', { finished: HOUR - 1000 })] }))).toEqual([]);
  });

  it('never touches its own containers, nor those of a runner with a heartbeat, however old', () => {
    const containers = [
      container('own', 'me', 'exited', { finished: 100 * HOUR }),
      container('alive', 'alive', 'exited', { finished: 100 * HOUR }),
      container('alive-running', 'alive', 'running', { started: 100 * HOUR }),
    ];
    expect(removedIds(view({ containers, absentSince: new Map([['alive', ago(100 * HOUR)]]) }))).toEqual([]);
  });

  it('leaves a container without a runner label, and one being removed', () => {
    const containers = [container('unlabelled', null, 'exited', { finished: 9 * HOUR }), container('removing', 'gone', 'removing', { finished: 9 * HOUR })];
    expect(removedIds(view({ containers }))).toEqual([]);
  });

  it('leaves a container whose times were not read', () => {
    const unread: JanitorContainer = { ...container('c1', 'gone', 'exited', { finished: 9 * HOUR }), times: undefined };
    expect(removedIds(view({ containers: [unread] }))).toEqual([]);
  });

  it('measures a created, never started container from its creation', () => {
    const containers = [
      container('old', 'gone', 'created', { created: 2 * HOUR, started: null }),
      container('new', 'gone', 'created', { created: 10 * 60_000, started: null }),
    ];
    expect(removedIds(view({ containers }))).toEqual(['old']);
  });

  it('falls back to the start, then the creation, for an exited container Docker gives no finish time', () => {
    const containers = [
      container('started-long-ago', 'gone', 'dead', { started: 3 * HOUR, finished: null }),
      container('created-lately', 'gone', 'exited', { created: 30 * 60_000, started: null, finished: null }),
    ];
    expect(removedIds(view({ containers }))).toEqual(['started-long-ago']);
  });

  describe('a running container (its runner may have gone a moment ago)', () => {
    const running = container('r1', 'gone', 'running', { started: 10 * HOUR });

    it('stays while this janitor has not seen its runner absent for the grace, however long it has run', () => {
      expect(removedIds(view({ containers: [running], absentSince: new Map() }))).toEqual([]);
      expect(removedIds(view({ containers: [running], absentSince: new Map([['gone', ago(HOUR - 1000)]]) }))).toEqual([]);
    });

    it('goes once its runner has been absent for the grace', () => {
      const decision = decideCleanup(view({ containers: [running], absentSince: new Map([['gone', ago(HOUR)]]) }));
      expect(decision.containers.map((r) => r.container.containerId)).toEqual(['r1']);
      expect(decision.containers[0].why).toBe('runner gone has no heartbeat; the container is still running, its runner absent since this janitor first looked 60 min ago (grace 60 min)');
    });

    it('stays when it started after its runner was first seen absent, until it has run for the grace', () => {
      const late = container('r2', 'gone', 'running', { started: 30 * 60_000 });
      expect(removedIds(view({ containers: [late], absentSince: new Map([['gone', ago(2 * HOUR)]]) }))).toEqual([]);
    });

    it('counts a paused or restarting container as running', () => {
      const containers = [container('p', 'gone', 'paused', { started: 10 * HOUR }), container('x', 'gone', 'restarting', { started: 10 * HOUR })];
      expect(removedIds(view({ containers }))).toEqual([]);
      expect(removedIds(view({ containers, absentSince: new Map([['gone', ago(2 * HOUR)]]) }))).toEqual(['p', 'x']);
    });
  });

  it('removes helper containers of a gone runner like session containers', () => {
    const helper: JanitorContainer = { ...container('h1', 'gone', 'exited', { finished: 2 * HOUR }, null), helper: 'git-capture' };
    expect(removedIds(view({ containers: [helper] }))).toEqual(['h1']);
  });
});

describe('decideCleanup: session directories', () => {
  const dir = (sessionId: string, ageMs: number) => ({ sessionId, modifiedAt: ago(ageMs) });

  it('removes an old directory no container of its session remains for', () => {
    const decision = decideCleanup(view({ directories: [dir('s1', 2 * HOUR)] }));
    expect(decision.directories).toEqual([{ sessionId: 's1', why: 'no container of its session is left, and it has not changed for 2.0 h' }]);
  });

  it('keeps a directory that changed within the grace (a runner preparing an attempt)', () => {
    expect(decideCleanup(view({ directories: [dir('s1', 10 * 60_000)] })).directories).toEqual([]);
  });

  it("keeps the directories of the sessions this runner holds, and of sessions with a container on the engine (any installation's)", () => {
    const decision = decideCleanup(
      view({
        directories: [dir('held', 9 * HOUR), dir('elsewhere', 9 * HOUR)],
        holds: (sessionId) => sessionId === 'held',
        sessionsWithContainers: [{ sessionId: 'elsewhere', containerId: 'other-installation' }],
      }),
    );
    expect(decision.directories).toEqual([]);
  });

  it('removes the directory of a session whose container goes in the same pass, and keeps one whose container stays', () => {
    const gone = container('c1', 'gone', 'exited', { finished: 2 * HOUR });
    const alive = container('c2', 'alive', 'running', { started: 2 * HOUR });
    const decision = decideCleanup(
      view({
        containers: [gone, alive],
        sessionsWithContainers: [
          { sessionId: 's-c1', containerId: 'c1' },
          { sessionId: 's-c2', containerId: 'c2' },
        ],
        directories: [dir('s-c1', 3 * HOUR), dir('s-c2', 3 * HOUR)],
      }),
    );
    expect(decision.containers.map((r) => r.container.containerId)).toEqual(['c1']);
    expect(decision.directories.map((d) => d.sessionId)).toEqual(['s-c1']);
  });

  it('keeps the directory of a session whose egress bridge of a live runner stays', () => {
    const bridge: JanitorContainer = { ...container('b1', 'alive', 'running', { started: 3 * HOUR }, 's1'), helper: 'egress-bridge' };
    expect(decideCleanup(view({ containers: [bridge], directories: [dir('s1', 3 * HOUR)] })).directories).toEqual([]);
  });
});
