import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger, PeriodicTask } from '@hub/config';
import { RUNNERS_BUCKET } from '@hub/contracts';
import { RunnerHeartbeats } from '@hub/messaging';
import { RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { RunnerSlots } from '../slots/runner-slots';

/**
 * This runner's heartbeat: its entry in the runners' bucket (RUNNERS_BUCKET), put as the runner starts
 * and every RUNNERS_BUCKET.heartbeatEveryMs, deleted when it stops cleanly. A runner that dies stops
 * putting it, and the bucket's max age removes it. Other runners' janitors read the bucket to know
 * which runners are there.
 */
@Injectable()
export class SendHeartbeats extends PeriodicTask {
  private readonly startedAt = new Date().toISOString();
  private stopped = false;
  /** Whether the last put failed (a failure is logged once, until a put succeeds again). */
  private failing = false;

  constructor(
    private readonly heartbeats: RunnerHeartbeats,
    private readonly slots: RunnerSlots,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {
    super({ everyMs: RUNNERS_BUCKET.heartbeatEveryMs, atStart: true });
  }

  /** Puts the entry now; false when it could not (logged). Never after the runner began to stop. */
  async runOnce(): Promise<boolean> {
    if (this.stopped) return false;
    try {
      await this.heartbeats.put({ runnerId: this.settings.runnerId, startedAt: this.startedAt, slots: this.slots.capacity, inUse: this.slots.used });
      if (this.failing) this.logger.info('heartbeat put again');
      this.failing = false;
      return true;
    } catch (error) {
      if (!this.failing) this.logger.warn({ err: (error as Error).message }, 'could not put the heartbeat; will retry');
      this.failing = true;
      return false;
    }
  }

  /** A clean stop: no more puts, and the entry goes at once rather than at its expiry. */
  override async onApplicationShutdown(): Promise<void> {
    super.onApplicationShutdown();
    this.stopped = true;
    await this.heartbeats
      .remove(this.settings.runnerId)
      .catch((error) => this.logger.warn({ err: (error as Error).message }, 'could not delete the heartbeat; it expires by itself'));
  }
}
