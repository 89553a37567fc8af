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
  private readonly everyMs: number;
  /** When the last put succeeded, and when one last failed or came late (Date.now(); 0: never). */
  private lastPutAt = 0;
  private interruptedAt = 0;

  constructor(
    private readonly heartbeats: RunnerHeartbeats,
    private readonly slots: RunnerSlots,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {
    const everyMs = settings.heartbeatEveryMs ?? RUNNERS_BUCKET.heartbeatEveryMs;
    super({ everyMs, atStart: true });
    this.everyMs = everyMs;
  }

  /**
   * Whether this runner's heartbeat may have lapsed since `sinceMs` (Date.now()): a put failed, or came
   * more than two periods after the one before (the process frozen, the event loop stuck), or none has
   * come for that long now. Then the registry may have taken its sessions (the lease grace is never
   * shorter than two periods); otherwise it cannot have.
   */
  interruptedSince(sinceMs: number): boolean {
    const overdue = this.lastPutAt > 0 && Date.now() - this.lastPutAt > 2 * this.everyMs;
    return overdue || this.interruptedAt >= sinceMs;
  }

  /** Puts the entry now; false when it could not (logged). Never after the runner began to stop. */
  async runOnce(): Promise<boolean> {
    if (this.stopped) return false;
    try {
      await this.heartbeats.put({
        runnerId: this.settings.runnerId,
        startedAt: this.startedAt,
        slots: this.slots.capacity,
        inUse: this.slots.used,
        labels: [...(this.settings.labels ?? [])],
        heartbeatEveryMs: this.settings.heartbeatEveryMs ?? RUNNERS_BUCKET.heartbeatEveryMs,
      });
      if (this.failing) this.logger.info('heartbeat put again');
      const now = Date.now();
      if (this.lastPutAt > 0 && now - this.lastPutAt > 2 * this.everyMs) {
        this.interruptedAt = now;
        this.logger.warn({ lateMs: now - this.lastPutAt - this.everyMs }, 'the heartbeat came late: the registry may have given this runner\'s sessions to others');
      }
      this.lastPutAt = now;
      this.failing = false;
      return true;
    } catch (error) {
      if (!this.failing) this.logger.warn({ err: (error as Error).message }, 'could not put the heartbeat; will retry');
      this.interruptedAt = Date.now();
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
