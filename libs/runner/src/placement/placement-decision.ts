import { describeLabels, hasRunnerLabels, HealthCheck, ReadyLabelSet, waitingForRunnerReason } from '@hub/contracts';

/** A runner with a heartbeat, and its labels (HUB_RUNNER_LABELS). */
export interface LiveRunner {
  runnerId: string;
  labels: readonly string[];
}

/**
 * What a runner does with a ready session before it claims it:
 * - `claim` it (it may run it);
 * - `defer`: hand it back, for another runner or for later, without a slot taken (a JetStream nak
 *   with `delayMs`);
 * - `fail`: no runner can run it (its image is on none of the runners that may take it): claim it
 *   and end it `image_not_found` with `reason`.
 */
export type Placement = { kind: 'claim' } | { kind: 'defer'; delayMs: number; reason: string } | { kind: 'fail'; reason: string };

/**
 * How soon a session handed back for another runner comes back: the runners pull in turn, so the
 * next delivery goes to another one, and a second keeps the bounces cheap while that one is busy.
 */
export const ELSEWHERE_RECHECK_MS = 1_000;
/** How soon a session that no live runner may run is looked at again: a runner with its labels may have started. */
export const NOWHERE_RECHECK_MS = 5_000;

const CLAIM: Placement = { kind: 'claim' };

/** `a [large], b [], c []`: the runners and their labels. */
export function describeRunners(runners: readonly LiveRunner[]): string {
  if (!runners.length) return 'none';
  return [...runners]
    .sort((a, b) => a.runnerId.localeCompare(b.runnerId))
    .map((runner) => `${runner.runnerId} [${runner.labels.join(', ')}]`)
    .join(', ');
}

/**
 * Whether this runner (`self`) may claim a session that requires `required` labels: yes when it has
 * them all; otherwise it hands it back, soon when a live runner has them (it goes to that one), later
 * when none has (it waits for one to start; readiness says so). `live`: the runners with a heartbeat
 * (null: they could not be read).
 */
export function placeByLabels(self: LiveRunner, required: readonly string[], live: readonly LiveRunner[] | null): Placement {
  if (hasRunnerLabels(self.labels, required)) return CLAIM;
  const lacking = `it needs runner labels ${describeLabels(required)}; this runner has ${describeLabels(self.labels)}`;
  if (live === null) return { kind: 'defer', delayMs: ELSEWHERE_RECHECK_MS, reason: `${lacking} (the runners' heartbeats could not be read)` };
  const able = live.filter((runner) => runner.runnerId !== self.runnerId && hasRunnerLabels(runner.labels, required));
  if (able.length) {
    return { kind: 'defer', delayMs: ELSEWHERE_RECHECK_MS, reason: `${lacking}; handed back for ${able.map((r) => r.runnerId).join(', ')}` };
  }
  return {
    kind: 'defer',
    delayMs: NOWHERE_RECHECK_MS,
    reason: `${waitingForRunnerReason(required)}: no live runner has them (runners: ${describeRunners(live)})`,
  };
}

/**
 * This runner (`self`) lacks the session's image and cannot pull it, and has recorded its refusal:
 * `refusedBy` lists every runner that refused this attempt so far (self among them). The session
 * goes back for another runner while a live runner that may take it (its labels match `required`)
 * has not refused it yet; once every one has, no runner can run it: it fails, naming them.
 */
export function placeByImage(
  image: string,
  self: LiveRunner,
  required: readonly string[],
  refusedBy: readonly string[],
  live: readonly LiveRunner[] | null,
): Placement {
  const missing = `image ${image} is not on this runner's Docker engine`;
  if (live === null) return { kind: 'defer', delayMs: ELSEWHERE_RECHECK_MS, reason: `${missing} (the runners' heartbeats could not be read)` };
  const able = new Set([self.runnerId, ...live.filter((runner) => hasRunnerLabels(runner.labels, required)).map((runner) => runner.runnerId)]);
  const notYet = [...able].filter((runnerId) => !refusedBy.includes(runnerId)).sort();
  if (notYet.length) return { kind: 'defer', delayMs: ELSEWHERE_RECHECK_MS, reason: `${missing}; handed back for ${notYet.join(', ')}` };
  return { kind: 'fail', reason: imageOnNoRunnerReason(image, refusedBy) };
}

/** `image X is on no runner: refused by a, b, c`. */
export function imageOnNoRunnerReason(image: string, refusedBy: readonly string[]): string {
  return `image ${image} is on no runner: refused by ${refusedBy.join(', ')}; build or load it on a runner's Docker engine, then re-run the session`;
}

/** The name of the readiness check on runner labels. */
export const RUNNER_LABELS_CHECK = 'runner labels';

/**
 * The readiness check on runner labels: which ready sessions wait for labels no live runner has
 * (`1 session waits for a runner with labels gpu; runners: a [large], b [], c []`), and the runners
 * with theirs. A warning, never a failure: such a session is no fault of Hub's, and a gateway taken
 * out of service for it could not even cancel it; `fix` says what would run it.
 */
export function runnerLabelsCheck(labelSets: readonly ReadyLabelSet[], live: readonly LiveRunner[]): HealthCheck {
  const runners = `runners: ${describeRunners(live)}`;
  const stranded = labelSets.filter((set) => !live.some((runner) => hasRunnerLabels(runner.labels, set.labels)));
  if (!stranded.length) {
    const waiting = labelSets.reduce((sum, set) => sum + set.sessions, 0);
    const detail = waiting
      ? `${plural(waiting, 'ready session')} ${waiting === 1 ? 'needs' : 'need'} runner labels, each had by a live runner`
      : 'no ready session waits for runner labels';
    return { name: RUNNER_LABELS_CHECK, ok: true, detail: `${detail}; ${runners}` };
  }
  const waits = stranded.map(
    (set) => `${plural(set.sessions, 'session')} ${set.sessions === 1 ? 'waits' : 'wait'} for a runner with labels ${set.labels.join(', ')}`,
  );
  const needed = [...new Set(stranded.flatMap((set) => set.labels))].sort();
  return {
    name: RUNNER_LABELS_CHECK,
    ok: true,
    detail: `${waits.join('; ')}; ${runners}`,
    fix: `start a runner whose HUB_RUNNER_LABELS include ${needed.join(', ')} (docs/scaling.md), or cancel the sessions that need them`,
  };
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
