import { z } from 'zod';

/**
 * What a runner label may be (HUB_RUNNER_LABELS, a session's `runnerLabels`): lower-case letters,
 * digits, `.`, `_` and `-`, starting with a letter or digit, at most 32 characters (`gpu`, `large`).
 */
export const RUNNER_LABEL_PATTERN = /^[a-z0-9][a-z0-9._-]{0,31}$/;
/** The most labels a runner has, or a session requires. */
export const MAX_RUNNER_LABELS = 8;

export const RunnerLabelSchema = z
  .string()
  .regex(RUNNER_LABEL_PATTERN, 'must be 1-32 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. gpu)');

/**
 * A set of runner labels, as a list: deduplicated and sorted (the one form stored, compared and
 * shown), at most MAX_RUNNER_LABELS once deduplicated.
 */
export const RunnerLabelsSchema = z
  .array(RunnerLabelSchema)
  .transform(normalLabels)
  .pipe(z.array(z.string()).max(MAX_RUNNER_LABELS, `must hold at most ${MAX_RUNNER_LABELS} different labels`));

/** Labels deduplicated and sorted. */
export function normalLabels(labels: readonly string[]): string[] {
  return [...new Set(labels)].sort();
}

/** Whether a runner with `runnerLabels` may run a session that requires `required`: it has every one of them. */
export function hasRunnerLabels(runnerLabels: readonly string[], required: readonly string[]): boolean {
  return required.every((label) => runnerLabels.includes(label));
}

/** `gpu, large`; `none` for no label. */
export function describeLabels(labels: readonly string[]): string {
  return labels.length ? labels.join(', ') : 'none';
}

/** Why a ready session waits, while it waits for a runner with its labels: `waiting for a runner with labels gpu`. */
export function waitingForRunnerReason(labels: readonly string[]): string {
  return `waiting for a runner with labels ${labels.join(', ')}`;
}
