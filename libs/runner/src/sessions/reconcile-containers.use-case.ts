import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { HeldSession } from '@hub/contracts';
import { RpcClient } from '@hub/messaging';
import { HUB_LOGGER, HubLogger, PeriodicTask } from '@hub/config';
import { ContainerEngine, SessionContainer } from '../ports/container-engine.port';
import { CONTAINER_ENGINE, RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { EGRESS_BRIDGE_PURPOSE } from '../egress/session-egress';
import { AttemptFiles } from '../workspace/attempt-files';
import { heldSessionsOf } from './held-sessions';
import { RunSession } from './run-session.use-case';
import { SessionInHand, SessionLedger } from './session-ledger';

/** Docker records creation times in whole seconds. */
const CLOCK_SLACK_MS = 2_000;
/** After a failed pass (the registry not answering yet, say), the next comes this soon, doubling up to the interval. */
export const RECONCILE_RETRY_FIRST_MS = 1_000;

/**
 * Matches this runner's labelled containers against the sessions the registry says it holds, at
 * start and periodically: a container whose session it holds is adopted (watched, or collected if it
 * exited meanwhile, with its real exit code); a container nobody holds is removed; a held session
 * with no container is reported lost; leftovers of a crash (helper containers, session directories)
 * are removed. Nothing is started twice.
 *
 * A container of a session the registry no longer gives this runner — its lease lapsed while this
 * runner (or its host) was gone, and the session went back to ready for another runner — is stale:
 * it is stopped and removed, and nothing of it is stored or reported (never `container.exited`), so
 * it can never stand for the session's result. That holds for the containers a restarted runner
 * finds, and for the attempts a runner still has in hand when it comes back from being cut off.
 */
@Injectable()
export class ReconcileContainers extends PeriodicTask implements BeforeApplicationShutdown {
  private running: Promise<void> | null = null;
  /** A retry sooner than the interval, after a failed pass; its delay doubles while passes fail. */
  private retry: NodeJS.Timeout | null = null;
  private retryDelayMs = RECONCILE_RETRY_FIRST_MS;
  private stopped = false;
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

  override onApplicationShutdown(): void {
    super.onApplicationShutdown();
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.stopped = true;
  }

  /**
   * One pass; concurrent calls share it. A failed pass is logged and tried again soon (1 s, doubling
   * up to the interval): a runner that starts before the registry answers adopts its containers as
   * soon as it does, not a whole interval later.
   */
  runOnce(): Promise<void> {
    this.running ??= this.reconcile()
      .then(() => {
        this.retryDelayMs = RECONCILE_RETRY_FIRST_MS;
      })
      .catch((error) => this.retrySoon(error as Error))
      .finally(() => (this.running = null));
    return this.running;
  }

  private retrySoon(error: Error): void {
    const delayMs = Math.min(this.retryDelayMs, this.settings.reconcileIntervalMs);
    this.logger.warn({ err: error.message, retryInMs: delayMs }, `reconciliation failed; trying again in ${delayMs} ms`);
    if (this.stopped || this.retry) return;
    this.retryDelayMs = delayMs * 2;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.runOnce();
    }, delayMs);
    this.retry.unref();
  }

  private async reconcile(): Promise<void> {
    const runnerId = this.settings.runnerId;
    const containers = (await this.engine.listSessionContainers()).filter(
      (c) => c.runnerId === runnerId && !this.ledger.holds(c.sessionId),
    );
    // Sessions taken in hand from here on may be missing from the answer (their claim may commit after it).
    const takenBefore = this.ledger.takesSoFar;
    const allHeld = await heldSessionsOf(this.rpc, runnerId);
    await this.giveUpStale(allHeld, takenBefore);
    const held = allHeld.filter((s) => !this.ledger.holds(s.sessionId));
    const helpers = await this.engine.listHelperContainers(runnerId);
    const bridgeOf = (sessionId: string) => helpers.find((h) => h.purpose === EGRESS_BRIDGE_PURPOSE && h.sessionId === sessionId) ?? null;

    for (const container of containers) {
      const session = held.find((s) => s.sessionId === container.sessionId && s.attempt === container.attempt);
      if (session && container.state !== 'created') {
        // Taken in hand at once (the ledger holds it from here on), so its egress bridge is kept below.
        void this.runSession.adopt(session, container.containerId, bridgeOf(session.sessionId));
      } else {
        await this.removeOrphan(container, session ? 'created but never started' : whyNotHeld(container, allHeld));
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

  /**
   * Attempts in hand (taken before the registry was asked, so their claim committed before it read;
   * their container not yet exited) that the registry no longer gives this runner: their lease lapsed
   * while this runner was cut off (or the registry ended them past their time limit). Each is given
   * up: its container stopped, then removed, nothing stored nor reported (WatchContainer, RunSession).
   */
  private async giveUpStale(held: HeldSession[], takenBefore: number): Promise<void> {
    const holds = new Set(held.map((s) => `${s.sessionId}:${s.attempt}`));
    const stale = this.ledger.sessions().filter(
      (s) => s.takeNumber <= takenBefore && !s.containerExited && !s.abandoned && !holds.has(`${s.sessionId}:${s.attempt}`),
    );
    for (const session of stale) await this.giveUp(session);
  }

  private async giveUp(session: SessionInHand): Promise<void> {
    const { sessionId, attempt, containerId } = session;
    session.abandoned =
      "the registry no longer gives this runner the attempt (its lease lapsed while this runner was cut off, and the session went back to ready for another runner, or it ended)";
    // A session still being prepared stops before it creates its container (the first cause wins).
    session.stopCause ??= 'container_lost';
    this.logger.warn({ sessionId, attempt, containerId, why: session.abandoned }, 'giving up a stale attempt: stopping its container; nothing of it is reported');
    if (containerId) {
      await this.engine.stop(containerId, 0).catch((error) => this.logger.warn({ containerId, err: (error as Error).message }, 'stop failed'));
    }
  }

  /** Removed, never reported: no `container.exited` leaves this runner for it. */
  private async removeOrphan(container: SessionContainer, why: string): Promise<void> {
    this.logger.warn(
      { sessionId: container.sessionId, attempt: container.attempt, containerId: container.containerId, state: container.state, why },
      'removing orphan container (not reported)',
    );
    await this.engine.remove(container.containerId);
  }
}

/** Why no held session owns a container of this runner. */
function whyNotHeld(container: SessionContainer, held: HeldSession[]): string {
  const same = held.find((s) => s.sessionId === container.sessionId);
  if (same) return `stale: the registry gives this runner attempt ${same.attempt} of that session, not ${container.attempt}`;
  return (
    'stale: the registry no longer gives that session to this runner (it ended, or went back to ready for another runner ' +
    "when this runner's lease lapsed); its outcome is not reported"
  );
}
