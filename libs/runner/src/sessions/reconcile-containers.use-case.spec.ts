import { createLogger } from '@hub/config';
import { RpcRequest, RpcResponse, RpcSubject, SessionSpec } from '@hub/contracts';
import { RpcClient } from '@hub/messaging';
import type { ContainerEngine, SessionContainer } from '../ports/container-engine.port';
import type { RunnerSettings } from '../runner.tokens';
import { ReconcileContainers } from './reconcile-containers.use-case';
import { RunSession } from './run-session.use-case';

// ReconcileContainers with the registry, the engine and RunSession in memory: which held sessions
// it adopts, which containers it removes, and which sessions it reports lost.

const RUNNER = 'runner-test';
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function specOf(n: number, attempt = 1): SessionSpec {
  return {
    sessionId: id(n),
    orchestrationId: id(99),
    type: 'agent',
    prompt: 'true',
    preamble: '',
    image: 'hub/test-agent:latest',
    repository: null,
    branch: null,
    timeoutSeconds: 60,
    attempt,
    inputs: [],
  };
}

class InMemoryRegistry {
  held: SessionSpec[] = [];

  async call<S extends RpcSubject>(_subject: S, _request: RpcRequest<S>): Promise<RpcResponse<S>> {
    const sessions = this.held.map((spec) => ({ spec, startedAt: null, changedAt: new Date().toISOString() }));
    return { sessions } as unknown as RpcResponse<S>;
  }
}

class InMemoryEngine {
  containers: SessionContainer[] = [];
  readonly removed: string[] = [];

  async listSessionContainers(): Promise<SessionContainer[]> {
    return this.containers;
  }
  async remove(containerId: string): Promise<void> {
    this.removed.push(containerId);
  }
}

/** The part of RunSession reconciliation uses, recording what it was asked to do. */
class RecordingRunSession {
  readonly inHand = new Set<string>();
  readonly reportedAttempts = new Map<string, number>();
  readonly adopted: string[] = [];
  readonly lost: string[] = [];

  holds(sessionId: string): boolean {
    return this.inHand.has(sessionId);
  }
  hasReported(sessionId: string, attempt: number): boolean {
    return this.reportedAttempts.get(sessionId) === attempt;
  }
  async adopt(spec: SessionSpec, containerId: string): Promise<void> {
    this.adopted.push(`${spec.sessionId}:${containerId}`);
  }
  async reportLost(spec: SessionSpec): Promise<void> {
    this.lost.push(`${spec.sessionId}#${spec.attempt}`);
  }
}

function container(n: number, state: string, attempt = 1): SessionContainer {
  return { containerId: `c${n}`, sessionId: id(n), attempt, runnerId: RUNNER, running: state === 'running', state };
}

describe('ReconcileContainers', () => {
  let registry: InMemoryRegistry;
  let engine: InMemoryEngine;
  let runSession: RecordingRunSession;
  let reconcile: ReconcileContainers;

  beforeEach(() => {
    registry = new InMemoryRegistry();
    engine = new InMemoryEngine();
    runSession = new RecordingRunSession();
    reconcile = new ReconcileContainers(
      registry as unknown as RpcClient,
      runSession as unknown as RunSession,
      engine as unknown as ContainerEngine,
      { runnerId: RUNNER } as RunnerSettings,
      createLogger('reconcile-test', 'silent'),
    );
  });

  it('adopts the containers of sessions it holds and removes those nobody holds or that never started', async () => {
    registry.held = [specOf(1), specOf(2), specOf(3)];
    engine.containers = [container(1, 'running'), container(2, 'exited'), container(3, 'created'), container(4, 'exited')];

    await reconcile.runOnce();

    expect(runSession.adopted).toEqual([`${id(1)}:c1`, `${id(2)}:c2`]);
    expect(engine.removed).toEqual(['c3', 'c4']);
    expect(runSession.lost).toEqual([`${id(3)}#1`]);
  });

  it('reports at once a held session whose claim answer never arrived (nothing runs it here)', async () => {
    registry.held = [specOf(5)];

    await reconcile.runOnce();

    expect(runSession.lost).toEqual([`${id(5)}#1`]);
  });

  it('leaves alone a session being claimed or run here, and one whose end it already reported', async () => {
    registry.held = [specOf(6), specOf(7, 2)];
    runSession.inHand.add(id(6));
    runSession.reportedAttempts.set(id(7), 2);

    await reconcile.runOnce();

    expect(runSession.lost).toEqual([]);
    expect(runSession.adopted).toEqual([]);
  });

  it('still reports a later attempt lost when only an earlier one was reported', async () => {
    registry.held = [specOf(8, 3)];
    runSession.reportedAttempts.set(id(8), 2);

    await reconcile.runOnce();

    expect(runSession.lost).toEqual([`${id(8)}#3`]);
  });
});
