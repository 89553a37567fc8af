import { CapacityGate } from '@hub/messaging';

/**
 * How many containers this runner may run at once. The ready-session feed pulls only while a slot
 * is free, so work beyond the limit stays queued on JetStream, in order, and nothing is dropped.
 */
export class RunnerSlots implements CapacityGate {
  private inUse = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly capacity: number) {}

  get used(): number {
    return this.inUse;
  }

  waitForRoom(): Promise<void> {
    if (this.inUse < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  take(): void {
    this.inUse++;
  }

  release(): void {
    this.inUse = Math.max(0, this.inUse - 1);
    while (this.inUse < this.capacity && this.waiters.length) this.waiters.shift()!();
  }
}
