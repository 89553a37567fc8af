import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@hub/config';
import { HeldSession, RpcRequest, RpcResponse, RpcSubject } from '@hub/contracts';
import { RpcClient } from '@hub/messaging';
import type { ContainerEngine, HelperContainer, SessionContainer } from '../ports/container-engine.port';
import type { RunnerSettings } from '../runner.tokens';
import { ReconcileContainers } from './reconcile-containers.use-case';
import { AttemptFiles } from '../workspace/attempt-files';
import { removeTree } from '../workspace/remove-tree';
import { RunSession } from './run-session.use-case';
import { SessionLedger } from './session-ledger';

// ReconcileContainers with the registry, the engine and RunSession in memory: which held sessions
// it adopts, which containers it removes, and which sessions it reports lost.

const RUNNER = 'runner-test';
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function heldOf(n: number, attempt = 1): HeldSession {
  return {
    sessionId: id(n),
    orchestrationId: id(99),
    image: 'hub/test-agent:latest',
    timeoutSeconds: 60,
    attempt,
    status: 'running',
    startedAt: null,
    changedAt: new Date().toISOString(),
    cancelRequested: false,
  };
}

/** Answers the held sessions two at a time, as the registry pages them. */
class InMemoryRegistry {
  held: HeldSession[] = [];
  pagesAsked = 0;
  /** Not answering yet (the registry still starting): each call fails. */
  down = false;
  /** What happens on this runner while the registry answers (a claim settling, say). */
  whileAsked: () => void = () => undefined;

  async call<S extends RpcSubject>(_subject: S, request: RpcRequest<S>): Promise<RpcResponse<S>> {
    this.pagesAsked++;
    if (this.down) throw new Error('hub.registry.sessions.held: no answer within 10000 ms');
    this.whileAsked();
    const after = (request as { after?: string }).after;
    const rest = after ? this.held.filter((s) => s.sessionId > after) : this.held;
    const sessions = rest.slice(0, 2);
    return { sessions, nextAfter: rest.length > 2 ? sessions[1].sessionId : null } as unknown as RpcResponse<S>;
  }
}

class InMemoryEngine {
  containers: SessionContainer[] = [];
  helpers: HelperContainer[] = [];
  readonly removed: string[] = [];
  readonly stopped: string[] = [];

  async listHelperContainers(): Promise<HelperContainer[]> {
    return this.helpers;
  }

  async listSessionContainers(): Promise<SessionContainer[]> {
    return this.containers;
  }
  async remove(containerId: string): Promise<void> {
    this.removed.push(containerId);
  }
  async stop(containerId: string): Promise<void> {
    this.stopped.push(containerId);
  }
}

/** The part of RunSession reconciliation uses, recording what it was asked to do; an adopted session is held at once, as RunSession holds it. */
class RecordingRunSession {
  readonly adopted: string[] = [];
  readonly lost: string[] = [];
  readonly bridges: string[] = [];
  ledger?: SessionLedger;

  async adopt(held: HeldSession, containerId: string, bridge: HelperContainer | null = null): Promise<void> {
    this.ledger?.take(held.sessionId, held.attempt);
    this.adopted.push(`${held.sessionId}:${containerId}`);
    if (bridge) this.bridges.push(`${held.sessionId}:${bridge.containerId}`);
  }
  async reportLost(held: HeldSession): Promise<void> {
    this.lost.push(`${held.sessionId}#${held.attempt}`);
  }
}

function container(n: number, state: string, attempt = 1): SessionContainer {
  return { containerId: `c${n}`, sessionId: id(n), attempt, runnerId: RUNNER, running: state === 'running', state };
}

function helper(containerId: string, ageMs: number, sessionId: string | null = null): HelperContainer {
  const purpose = sessionId ? 'egress-bridge' : 'git-capture';
  return { containerId, createdAt: new Date(Date.now() - ageMs), purpose, sessionId, labels: {} };
}

/** A tree deeper than a host path may be (fs.mkdir would fail with ENAMETOOLONG): made one relative level at a time. */
function mkdirDeep(root: string, levels: number, name: string): void {
  execFileSync('perl', ['-e', 'chdir $ARGV[0] or die; for (1..$ARGV[1]) { mkdir $ARGV[2]; chdir $ARGV[2] or die "$!" }', root, String(levels), name]);
}

describe('ReconcileContainers', () => {
  let registry: InMemoryRegistry;
  let engine: InMemoryEngine;
  let runSession: RecordingRunSession;
  let ledger: SessionLedger;
  let dataDir: string;
  let reconcile: ReconcileContainers;

  beforeEach(async () => {
    registry = new InMemoryRegistry();
    engine = new InMemoryEngine();
    runSession = new RecordingRunSession();
    ledger = new SessionLedger();
    runSession.ledger = ledger;
    dataDir = await mkdtemp(join(tmpdir(), 'hub-reconcile-test-'));
    const settings = { runnerId: RUNNER, dataDir, reconcileIntervalMs: 30_000 } as RunnerSettings;
    reconcile = new ReconcileContainers(
      registry as unknown as RpcClient,
      runSession as unknown as RunSession,
      ledger,
      new AttemptFiles(settings),
      engine as unknown as ContainerEngine,
      settings,
      createLogger('reconcile-test', 'silent'),
    );
  });

  afterEach(async () => {
    await removeTree(dataDir);
  });

  it('tries again within seconds, not a whole interval later, when the registry did not answer', async () => {
    registry.held = [heldOf(1)];
    engine.containers = [container(1, 'running')];
    registry.down = true;
    jest.useFakeTimers();
    try {
      await reconcile.runOnce();
      expect(runSession.adopted).toEqual([]);
      registry.down = false;
      await jest.advanceTimersByTimeAsync(1_000);
      expect(runSession.adopted).toEqual([`${id(1)}:c1`]);
    } finally {
      reconcile.onApplicationShutdown();
      jest.useRealTimers();
    }
  });

  it('adopts the containers of sessions it holds and removes those nobody holds or that never started', async () => {
    registry.held = [heldOf(1), heldOf(2), heldOf(3)];
    engine.containers = [container(1, 'running'), container(2, 'exited'), container(3, 'created'), container(4, 'exited')];

    await reconcile.runOnce();

    expect(runSession.adopted).toEqual([`${id(1)}:c1`, `${id(2)}:c2`]);
    expect(engine.removed).toEqual(['c3', 'c4']);
    expect(runSession.lost).toEqual([`${id(3)}#1`]);
    expect(registry.pagesAsked).toBe(2); // three held sessions, two a page
  });

  it('removes the directories of sessions nobody here holds (a crashed runner left them), whatever their depth', async () => {
    registry.held = [heldOf(10)];
    engine.containers = [container(10, 'running')];
    ledger.take(id(11), 1);
    await mkdir(join(dataDir, 'sessions', id(10), 'attempt-1', 'output'), { recursive: true });
    await mkdir(join(dataDir, 'sessions', id(11), 'attempt-1'), { recursive: true });
    await mkdir(join(dataDir, 'sessions', id(12), 'attempt-1', 'output'), { recursive: true });
    mkdirDeep(join(dataDir, 'sessions', id(12), 'attempt-1', 'output'), 40, 'd'.repeat(120));

    await reconcile.runOnce();

    expect((await readdir(join(dataDir, 'sessions'))).sort()).toEqual([id(10), id(11)]);
  });

  it('reports at once a held session whose claim answer never arrived (nothing runs it here)', async () => {
    registry.held = [heldOf(5)];

    await reconcile.runOnce();

    expect(runSession.lost).toEqual([`${id(5)}#1`]);
  });

  it('leaves alone a session being claimed or run here, and one whose end it already reported', async () => {
    registry.held = [heldOf(6), heldOf(7, 2)];
    ledger.take(id(6), 1);
    ledger.recordReported(id(7), 2);

    await reconcile.runOnce();

    expect(runSession.lost).toEqual([]);
    expect(runSession.adopted).toEqual([]);
  });

  it('still reports a later attempt lost when only an earlier one was reported', async () => {
    registry.held = [heldOf(8, 3)];
    ledger.recordReported(id(8), 2);

    await reconcile.runOnce();

    expect(runSession.lost).toEqual([`${id(8)}#3`]);
  });

  it("removes, never reports, the containers of sessions the registry no longer gives it (its lease lapsed while it was gone)", async () => {
    // Session 30 went to another runner; session 31 came back to this one as attempt 2.
    registry.held = [heldOf(31, 2)];
    engine.containers = [container(30, 'exited'), container(31, 'running', 1), { ...container(31, 'running', 2), containerId: 'c31-2' }];

    await reconcile.runOnce();

    expect(engine.removed).toEqual(['c30', 'c31']);
    expect(runSession.adopted).toEqual([`${id(31)}:c31-2`]);
    expect(runSession.lost).toEqual([]);
  });

  it('gives up an attempt in hand the registry no longer gives it: stops its container, to be removed unreported', async () => {
    registry.held = [heldOf(41)];
    const stale = ledger.take(id(40), 1);
    stale.containerId = 'c40';
    ledger.take(id(41), 1).containerId = 'c41';
    const exited = ledger.take(id(42), 1);
    exited.containerExited = true;
    // Claimed while the registry was being asked: not in its answer, and not stale.
    registry.whileAsked = () => void (ledger.get(id(43)) ?? ledger.take(id(43), 1));

    await reconcile.runOnce();

    expect(engine.stopped).toEqual(['c40']);
    expect(stale).toMatchObject({ stopCause: 'container_lost', abandoned: expect.stringContaining('no longer gives this runner the attempt') });
    for (const n of [41, 42, 43]) expect(ledger.get(id(n))?.abandoned).toBeNull();
    expect(runSession.lost).toEqual([]);
  });

  it('removes the helper containers an earlier incarnation left, never one of its own', async () => {
    engine.helpers = [helper('left-by-a-crash', 60_000), helper('capturing-now', 0)];

    await reconcile.runOnce();

    expect(engine.removed).toEqual(['left-by-a-crash']);
  });

  it("keeps the egress bridge of a session it adopts (handing it over), and removes the bridge of one nobody holds", async () => {
    registry.held = [heldOf(20)];
    engine.containers = [container(20, 'running'), container(21, 'running')];
    engine.helpers = [helper('bridge-20', 60_000, id(20)), helper('bridge-21', 60_000, id(21)), helper('bridge-22', 60_000, id(22))];

    await reconcile.runOnce();

    expect(runSession.bridges).toEqual([`${id(20)}:bridge-20`]);
    expect(engine.removed).toEqual(['c21', 'bridge-21', 'bridge-22']);

    // The next pass leaves the adopted session's bridge alone too.
    engine.removed.length = 0;
    engine.containers = [container(20, 'running')];
    engine.helpers = [helper('bridge-20', 60_000, id(20))];
    await reconcile.runOnce();
    expect(engine.removed).toEqual([]);
  });
});
