import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger, PeriodicTask } from '@hub/config';
import { SessionStore } from '../store/session-store';
import { SessionTransitions } from './session-transitions';

/** How long past its time limit a session may stay starting/running before the registry ends it. */
export const OVERDUE_GRACE_SECONDS = 120;
const CHECK_INTERVAL_MS = 15_000;

/**
 * The last line of defence: a session starting or running well past its time limit (its runner is
 * gone for good, say) ends `failed` with reason `container_lost`, so nothing waits forever. A runner
 * that comes back later finds the session ended and removes the container as an orphan.
 */
@Injectable()
export class ExpireOverdueSessions extends PeriodicTask {
  constructor(
    private readonly store: SessionStore,
    private readonly transitions: SessionTransitions,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {
    super({ everyMs: CHECK_INTERVAL_MS, atStart: false });
  }

  async runOnce(): Promise<number> {
    try {
      const overdue = await this.store.overdue(OVERDUE_GRACE_SECONDS);
      for (const session of overdue) {
        await this.transitions.move({
          sessionId: session.id,
          attempt: session.attempt,
          from: ['starting', 'running'],
          to: 'failed',
          reason: `container_lost: no runner reported the end of its container within its time limit (+${OVERDUE_GRACE_SECONDS} s)`,
          changes: { finishedAt: new Date() },
        });
      }
      return overdue.length;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'could not check for overdue sessions; will retry');
      return 0;
    }
  }
}
