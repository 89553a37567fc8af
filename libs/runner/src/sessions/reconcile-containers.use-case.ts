import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { HeldSession, RPC } from '@hub/contracts';
import { RpcClient } from '@hub/messaging';
import { HUB_LOGGER, HubLogger, PeriodicTask } from '@hub/config';
import { ContainerEngine, SessionContainer } from '../ports/container-engine.port';
import { CONTAINER_ENGINE, RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { EGRESS_BRIDGE_PURPOSE } from '../egress/session-egress';
import { AttemptFiles } from '../workspace/attempt-files';
import { RunSession } from './run-session.use-case';
import { SessionLedger } from './session-ledger';

/** Docker records creation times in whole seconds. */
const CLOCK_SLACK_MS = 2_000;

/**
 * Matches this runner's labelled containers against the sessions the registry says it holds, at
 * start and periodically: a container whose session it holds is adopted (watched, or collected if it
 * exited meanwhile, with its real exit code); a container nobody holds is removed; a held session
 * with no container is reported lost; leftovers of a crash (helper containers, session directories)
 * are removed. Nothing is started twice.
 */
@Injectable()
export class ReconcileContainers extends PeriodicTask implements BeforeApplicationShutdown {
  private running: Promise<void> | null = null;
  /** When this runner process started: helper containers older than that are an earlier incarnation's. */
  private readonly startedAt = Date.now();

  constructor(
    private readonly rpc: RpcClient,
    private readonly runSession: RunSession,
    private readonly ledger: SessionLedger,
    private readonly files: AttemptFiles,
    @Inject(CONTAINER_ENGINE) private readonly engine: ContainerEngine,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {
    // As the runner starts, then every reconcileIntervalMs while it runs.
    super({ everyMs: settings.reconcileIntervalMs, atStart: true });
  }

  /** No pass starts once the runner is stopping: it would adopt or remove containers while SettleOnShutdown finishes attempts. */
  beforeApplicationShutdown(): void {
    this.onApplicationShutdown();
  }

  /** One pass; concurrent calls share it. Failures are logged and left to the next pass. */
  runOnce(): Promise<void> {
    this.running ??= this.reconcile()
      .catch((error) => this.logger.warn({ err: (error as Error).message }, 'reconciliation failed; will retry'))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async reconcile(): Promise<void> {
    const runnerId = this.settings.runnerId;
    const containers = (await this.engine.listSessionContainers()).filter(
      (c) => c.runnerId === runnerId && !this.ledger.holds(c.sessionId),
    );
    const held = (await this.heldSessions()).filter((s) => !this.ledger.holds(s.sessionId));
    const helpers = await this.engine.listHelperContainers(runnerId);
    const bridgeOf = (sessionId: string) => helpers.find((h) => h.purpose === EGRESS_BRIDGE_PURPOSE && h.sessionId === sessionId) ?? null;

    for (const container of containers) {
      const session = held.find((s) => s.sessionId === container.sessionId && s.attempt === container.attempt);
      if (session && container.state !== 'created') {
        // Taken in hand at once (the ledger holds it from here on), so its egress bridge is kept below.
        void this.runSession.adopt(session, container.containerId, bridgeOf(session.sessionId));
      } else {
        await this.removeOrphan(container, session ? 'created but never started' : 'no session of this runner holds it');
      }
    }

    // Held by this runner per the registry, yet neither running here, nor being claimed, nor already
    // reported (the registry may not have applied that report yet): its container is gone, or was
    // never created (an earlier incarnation died, or the answer to the claim was lost). Lost at once.
    for (const session of held) {
      const { sessionId, attempt } = session;
      const hasContainer = containers.some((c) => c.sessionId === sessionId && c.attempt === attempt && c.state !== 'created');
      if (hasContainer || this.ledger.holds(sessionId) || this.ledger.hasReported(sessionId, attempt)) continue;
      await this.runSession.reportLost(session);
    }

    // Helper containers (git capture, egress bridges) of an earlier incarnation: each lives within one
    // attempt and is removed when it ends, so one created before this process started was left by a
    // crash; but the bridge of a session this runner holds (adopted) stays while its agent runs.
    for (const helper of helpers) {
      if (helper.createdAt.getTime() >= this.startedAt - CLOCK_SLACK_MS) continue;
      if (helper.sessionId && this.ledger.holds(helper.sessionId)) continue;
      this.logger.warn({ containerId: helper.containerId }, 'removing a helper container left by an earlier runner');
      await this.engine.remove(helper.containerId);
    }

    // Directories of sessions nobody here holds any more (a runner that crashed mid-attempt left them).
    const heldIds = new Set(held.map((s) => s.sessionId));
    const swept = await this.files.sweep((sessionId) => heldIds.has(sessionId) || this.ledger.holds(sessionId), this.logger);
    if (swept) this.logger.info({ directories: swept }, 'removed session directories left behind');
  }

  /** Every session the registry says this runner holds, read a page at a time. */
  private async heldSessions(): Promise<HeldSession[]> {
    const sessions: HeldSession[] = [];
    let after: string | undefined;
    do {
      const page = await this.rpc.call(RPC.heldSessions, { runnerId: this.settings.runnerId, ...(after ? { after } : {}) });
      sessions.push(...page.sessions);
      after = page.nextAfter ?? undefined;
    } while (after);
    return sessions;
  }

  private async removeOrphan(container: SessionContainer, why: string): Promise<void> {
    this.logger.warn(
      { sessionId: container.sessionId, attempt: container.attempt, containerId: container.containerId, why },
      'removing orphan container',
    );
    await this.engine.remove(container.containerId);
  }
}

