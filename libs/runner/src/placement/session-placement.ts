import { Inject, Injectable, Optional } from '@nestjs/common';
import { EventOf } from '@hub/contracts';
import { ImageRefusals } from '@hub/messaging';
import { ContainerEngine } from '../ports/container-engine.port';
import { CONTAINER_ENGINE, RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { LiveRunners } from './live-runners';
import { Placement, placeByImage, placeByLabels } from './placement-decision';

/** How long an image found on the engine is taken to be there without asking again. */
export const PRESENT_IMAGE_CACHE_MS = 10_000;

/**
 * Decides, before a runner claims a ready session (and before it takes a slot), whether this runner
 * is one that may run it: it has every label the session requires (HUB_RUNNER_LABELS ⊇ runnerLabels),
 * and its engine has the session's image. A runner that is not hands the session back for another
 * (placeByLabels, placeByImage); one that lacks the image records its refusal (ImageRefusals), and
 * when every live runner that may take the session has refused it, fails it naming them.
 */
@Injectable()
export class SessionPlacement {
  /** Images found on the engine, until when they are taken to be there. */
  private readonly present = new Map<string, number>();

  constructor(
    private readonly runners: LiveRunners,
    private readonly refusals: ImageRefusals,
    @Inject(CONTAINER_ENGINE) private readonly engine: ContainerEngine,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    @Optional() private readonly now: () => number = Date.now,
  ) {}

  /**
   * The placement when it needs no question asked (this runner has the labels, and the image is known
   * to be on its engine, or the event names none): claim. Null when decide() must ask.
   */
  decideAtOnce(event: EventOf<'session.ready'>): Placement | null {
    const { image } = event.data;
    const own = this.runners.self.labels;
    if (!(event.data.runnerLabels ?? []).every((label) => own.includes(label))) return null;
    if (image !== undefined && !((this.present.get(image) ?? 0) > this.now())) return null;
    return { kind: 'claim' };
  }

  async decide(event: EventOf<'session.ready'>): Promise<Placement> {
    const { sessionId, attempt, image } = event.data;
    const required = event.data.runnerLabels ?? [];
    const self = this.runners.self;
    const byLabels = placeByLabels(self, required, required.length ? await this.liveRunnersIfLacking(required) : []);
    if (byLabels.kind !== 'claim' || image === undefined) return byLabels;
    if (await this.hasImage(image)) return byLabels;
    const refusedBy = await this.refusals.refuse(sessionId, attempt, image, this.settings.runnerId);
    return placeByImage(image, self, required, refusedBy, await this.runners.list());
  }

  /** The live runners, read only when this runner lacks a label (otherwise its own labels decide). */
  private async liveRunnersIfLacking(required: readonly string[]) {
    const own = this.runners.self.labels;
    return required.every((label) => own.includes(label)) ? [] : this.runners.list();
  }

  /** Whether the engine has the image; an error asking it counts as present (the claim's own check then reports it). */
  private async hasImage(image: string): Promise<boolean> {
    const until = this.present.get(image);
    if (until !== undefined && until > this.now()) return true;
    const status = await this.engine.imageStatus(image).catch(() => 'present' as const);
    if (status === 'missing') {
      this.present.delete(image);
      return false;
    }
    if (this.present.size >= 1000) this.present.clear();
    this.present.set(image, this.now() + PRESENT_IMAGE_CACHE_MS);
    return true;
  }
}
