import { Budget, BudgetStatus, Usage } from '@hub/contracts';

/** The most one attempt of the orchestration has spent so far, per cap (null: no attempt reported it). */
export interface LargestAttempt {
  tokens: number | null;
  usd: number | null;
}

export type BudgetCap = 'tokens' | 'usd';

/**
 * How many more of an orchestration's sessions its budget lets start now, or that it is exhausted.
 *
 * A session's usage is known only once it ended, so Hub admits by what the orchestration's sessions
 * have cost so far: each session in flight is counted at the most any attempt of the orchestration
 * spent, and another starts only while what is left covers it at that cost too. Until an attempt has
 * reported usage, sessions start one at a time (the first one measures). So with sessions of similar
 * cost, what is spent stays within one session's usage of the budget. Exhausted: nothing is in flight
 * and what is left covers no further session (or nothing is left): sessions not yet started are skipped.
 */
export function budgetAdmission(
  budget: Budget,
  spent: Usage,
  inFlight: number,
  largest: LargestAttempt,
): { room: number; exhausted: false } | { room: 0; exhausted: true; reason: string } {
  let room = Number.POSITIVE_INFINITY;
  for (const cap of capsOf(budget)) {
    const limit = budget[cap]!;
    const used = spentOn(spent, cap);
    const left = limit - used;
    const estimate = largest[cap];
    if (left <= 0) return { room: 0, exhausted: true, reason: `budget spent: ${amount(cap, used)} of ${amount(cap, limit)}` };
    if (!estimate) {
      room = Math.min(room, inFlight === 0 ? 1 : 0);
      continue;
    }
    const capRoom = Math.floor((left - inFlight * estimate) / estimate);
    if (capRoom <= 0 && inFlight === 0) {
      return {
        room: 0,
        exhausted: true,
        reason:
          `budget exhausted: ${amount(cap, used)} of ${amount(cap, limit)} spent; the ${amount(cap, left)} left ` +
          `cover less than the ${amount(cap, estimate)} a session of this orchestration has used`,
      };
    }
    room = Math.min(room, Math.max(0, capRoom));
  }
  return { room, exhausted: false };
}

/** The budget as the orchestration's view shows it. */
export function budgetStatus(budget: Budget, spent: Usage, largest: LargestAttempt): BudgetStatus {
  const left = (cap: BudgetCap) => (budget[cap] === undefined ? null : Math.max(0, budget[cap]! - spentOn(spent, cap)));
  const leftUsd = left('usd');
  return {
    tokens: budget.tokens ?? null,
    usd: budget.usd ?? null,
    onExhausted: budget.onExhausted,
    left: { tokens: left('tokens'), usd: leftUsd === null ? null : Math.round(leftUsd * 1e6) / 1e6 },
    exhausted: budgetAdmission(budget, spent, 0, largest).exhausted,
  };
}

/** The caps a budget sets whose spending is now at or past its limit: what `onExhausted: stop` acts on. */
export function capsSpent(budget: Budget, spent: Usage): BudgetCap[] {
  return capsOf(budget).filter((cap) => spentOn(spent, cap) >= budget[cap]!);
}

/** Each (cap, threshold %) the move from `before` to `after` crossed, for `orchestration.budget-threshold`. */
export function thresholdsCrossed(
  budget: Budget,
  before: Usage,
  after: Usage,
  thresholds: readonly number[],
): { cap: BudgetCap; threshold: number; spent: number; budget: number }[] {
  return capsOf(budget).flatMap((cap) =>
    thresholds
      .filter((t) => spentOn(before, cap) < (budget[cap]! * t) / 100 && spentOn(after, cap) >= (budget[cap]! * t) / 100)
      .map((threshold) => ({ cap, threshold, spent: spentOn(after, cap), budget: budget[cap]! })),
  );
}

function capsOf(budget: Budget): BudgetCap[] {
  return (['tokens', 'usd'] as const).filter((cap) => budget[cap] !== undefined);
}

function spentOn(usage: Usage, cap: BudgetCap): number {
  return cap === 'tokens' ? usage.tokens.total : (usage.costUsd ?? 0);
}

function amount(cap: BudgetCap, n: number): string {
  return cap === 'tokens' ? `${Math.round(n).toLocaleString('en-US')} tokens` : `$${n.toFixed(2)}`;
}
