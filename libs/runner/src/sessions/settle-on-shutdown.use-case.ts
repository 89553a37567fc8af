import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { EGRESS_BRIDGE_PURPOSE } from '../egress/session-egress';
import { ContainerEngine } from '../ports/container-engine.port';
import { CONTAINER_ENGINE, RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { RunSession } from './run-session.use-case';
import { SessionInHand, SessionLedger } from './session-ledger';

/** How long a stopping runner waits for the attempts it can finish (well within the stack's 20 s before SIGKILL). */
export const SHUTDOWN_SETTLE_MS = 10_000;
/** How often it looks again meanwhile: a container may exit while it waits. */
const RECHECK_MS = 200;

/**
 * What a runner does when asked to stop (SIGTERM), before its NATS connection and its egress proxy
 * close. A running container is left running, with its egress bridge: the runner adopts it when it
 * is back. But an attempt whose container has exited has nothing left to run, only its report and
 * its removal: it is finished (up to SHUTDOWN_SETTLE_MS), else its stopped container, and its bridge,
 * would wait for the runner to come back, or stay behind if it never does. An attempt not yet started
 * starts no container any more and ends `container_lost` (RunSession.stopStarting). Last, the egress
 * bridges of sessions whose container no longer runs are removed.
 */
@Injectable()
export class SettleOnShutdown implements BeforeApplicationShutdown {
  constructor(
    private readonly runSession: RunSession,
    private readonly ledger: SessionLedger,
    @Inject(CONTAINER_ENGINE) private readonly engine: ContainerEngine,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.settle(SHUTDOWN_SETTLE_MS);
  }

  /** Never throws: a runner that cannot look at its containers still stops. */
  async settle(withinMs: number): Promise<void> {
    this.runSession.stopStarting();
    const deadline = Date.now() + withinMs;
    let finishing = await this.finishing();
    if (!finishing.length && this.ledger.size) {
      // Docker lists a container that has just died as running for a moment: look once more.
      await delay(RECHECK_MS);
      finishing = await this.finishing();
    }
    if (finishing.length) {
      this.logger.info({ sessions: finishing.map((s) => s.sessionId) }, 'stopping: finishing the attempts whose containers are not running');
    }
    while (finishing.length) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.logger.warn(
          { sessions: finishing.map((s) => s.sessionId), withinMs },
          'stopping before these attempts were reported and removed: the runner collects them when it is back',
        );
        break;
      }
      await Promise.race([Promise.all(finishing.map((s) => s.ended)), delay(Math.min(left, RECHECK_MS))]);
      finishing = await this.finishing();
    }
    await this.removeIdleBridges();
    const running = this.ledger.sessions().map((s) => s.sessionId);
    if (running.length) this.logger.info({ sessions: running }, 'stopping: running containers are left to run, adopted when the runner is back');
  }

  /** The sessions in hand whose container does not run: not created or started yet, or exited. */
  private async finishing(): Promise<SessionInHand[]> {
    const running = await this.runningContainers();
    return this.ledger
      .sessions()
      .filter((s) => !s.containerId || s.containerExited || (running !== null && !running.has(s.containerId)));
  }

  /** The ids of this runner's running session containers; null when the engine cannot say. */
  private async runningContainers(): Promise<Set<string> | null> {
    try {
      const containers = await this.engine.listSessionContainers();
      return new Set(containers.filter((c) => c.running && c.runnerId === this.settings.runnerId).map((c) => c.containerId));
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'stopping: the containers could not be listed');
      return null;
    }
  }

  /** The egress bridges of sessions whose agent container no longer runs: nothing is left to reach the proxy through them. */
  private async removeIdleBridges(): Promise<void> {
    try {
      const runnerId = this.settings.runnerId;
      const running = new Set(
        (await this.engine.listSessionContainers()).filter((c) => c.running && c.runnerId === runnerId).map((c) => c.sessionId),
      );
      const idle = (await this.engine.listHelperContainers(runnerId)).filter(
        (h) => h.purpose === EGRESS_BRIDGE_PURPOSE && h.sessionId && !running.has(h.sessionId),
      );
      for (const bridge of idle) {
        this.logger.info({ sessionId: bridge.sessionId, bridgeId: bridge.containerId }, 'stopping: removing the egress bridge of a session whose container is gone');
        await this.engine
          .remove(bridge.containerId)
          .catch((error) => this.logger.warn({ bridgeId: bridge.containerId, err: (error as Error).message }, 'could not remove the egress bridge'));
      }
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'stopping: the egress bridges could not be listed');
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
