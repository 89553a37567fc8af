import { Inject, Injectable, Optional } from '@nestjs/common';
import { RunnerHeartbeats } from '@hub/messaging';
import { RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { LiveRunner } from './placement-decision';

/** How long the runners read from the heartbeats are taken as they are: they are put every 10 s, and read per handed-back session. */
export const LIVE_RUNNERS_CACHE_MS = 2_000;

/**
 * The runners alive now, as their heartbeats say (RUNNERS_BUCKET), with their labels: what a runner
 * decides on before handing a session back for another. This runner is always among them, with its
 * own labels (its entry may lag behind). Read at most every LIVE_RUNNERS_CACHE_MS.
 */
@Injectable()
export class LiveRunners {
  private cached: { at: number; runners: Promise<LiveRunner[] | null> } | null = null;

  constructor(
    private readonly heartbeats: RunnerHeartbeats,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    @Optional() private readonly now: () => number = Date.now,
  ) {}

  /** This runner, with its labels. */
  get self(): LiveRunner {
    return { runnerId: this.settings.runnerId, labels: this.settings.labels ?? [] };
  }

  /** The runners with a heartbeat, by id; null when the heartbeats cannot be read (nothing is decided on them then). */
  list(): Promise<LiveRunner[] | null> {
    if (this.cached && this.now() - this.cached.at < LIVE_RUNNERS_CACHE_MS) return this.cached.runners;
    const runners = this.read();
    this.cached = { at: this.now(), runners };
    return runners;
  }

  private async read(): Promise<LiveRunner[] | null> {
    try {
      const present = await this.heartbeats.present();
      const runners = [...present]
        .filter(([runnerId]) => runnerId !== this.settings.runnerId)
        // An entry that does not read still names a live runner: one without labels, as far as is known.
        .map(([runnerId, presence]) => ({ runnerId, labels: presence.ok ? presence.heartbeat.labels : [] }));
      return [this.self, ...runners].sort((a, b) => a.runnerId.localeCompare(b.runnerId));
    } catch {
      this.cached = null;
      return null;
    }
  }
}
