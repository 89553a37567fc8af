import { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

/** How often a periodic task runs, and whether a first pass runs as the application starts. */
export interface PeriodicSchedule {
  everyMs: number;
  atStart: boolean;
}

/**
 * A provider's periodic work, started and stopped with the Nest application, never from a main.ts:
 * a first pass at bootstrap when `atStart`, then one every `everyMs` until shutdown. A subclass
 * gives its schedule to the constructor and does one pass in `runOnce`, logging its own failures.
 */
export abstract class PeriodicTask implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  protected constructor(private readonly periodic: PeriodicSchedule) {}

  /** One pass (what the timer starts; callers may run one too). It must not reject. */
  abstract runOnce(): unknown;

  onApplicationBootstrap(): void {
    if (this.periodic.atStart) void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.periodic.everyMs);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
