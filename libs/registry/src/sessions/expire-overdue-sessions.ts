import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { HubLogger } from '@hub/config';
import { OutboxRelay } from '../outbox/outbox-relay';
import { REGISTRY_LOGGER } from '../registry.tokens';
import { SessionStore } from '../store/session-store';
import { SessionTransitions } from './session-transitions';

/** How long past its time limit a session may stay starting/running before the registry ends it. */
export const OVERDUE_GRACE_SECONDS = 120;

/**
 * The last line of defence: a session starting or running well past its time limit (its runner is
 * gone for good, say) ends `failed` with reason `container_lost`, so nothing waits forever. A runner
 * that comes back later finds the session ended and removes the container as an orphan.
 */
@Injectable()
export class ExpireOverdueSessions implements OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: SessionStore,
    private readonly transitions: SessionTransitions,
    private readonly relay: OutboxRelay,
    @Inject(REGISTRY_LOGGER) private readonly logger: HubLogger,
  ) {}

  start(intervalMs = 15_000): void {
    this.timer = setInterval(() => void this.runOnce(), intervalMs);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
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
      if (overdue.length) this.relay.kick();
      return overdue.length;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'could not check for overdue sessions; will retry');
      return 0;
    }
  }
}
