import { usageOf } from '@hub/contracts';
import { budgetAdmission, budgetStatus, capsSpent, thresholdsCrossed } from './budget-admission';

const spent = (tokens: number, costUsd: number | null = null) => usageOf({ input: tokens, output: 0, cacheRead: 0, cacheWrite: 0 }, costUsd);
const unknown = { tokens: null, usd: null };

describe('budgetAdmission', () => {
  it('lets one session start at a time until one has reported what a session costs', () => {
    const budget = { tokens: 10_000, onExhausted: 'finish' as const };
    expect(budgetAdmission(budget, spent(0), 0, unknown)).toEqual({ room: 1, exhausted: false });
    expect(budgetAdmission(budget, spent(0), 1, unknown)).toEqual({ room: 0, exhausted: false });
  });

  it('counts each session in flight at the most one attempt has cost, and admits as many more as what is left covers', () => {
    const budget = { tokens: 4500, onExhausted: 'finish' as const };
    expect(budgetAdmission(budget, spent(1000), 0, { tokens: 1000, usd: null })).toEqual({ room: 3, exhausted: false });
    expect(budgetAdmission(budget, spent(1000), 2, { tokens: 1000, usd: null })).toEqual({ room: 1, exhausted: false });
    expect(budgetAdmission(budget, spent(1000), 3, { tokens: 1000, usd: null })).toEqual({ room: 0, exhausted: false });
  });

  it('is exhausted when nothing is in flight and what is left covers no further session, or nothing is left', () => {
    const budget = { tokens: 4500, onExhausted: 'finish' as const };
    expect(budgetAdmission(budget, spent(4000), 0, { tokens: 1000, usd: null })).toMatchObject({ exhausted: true, reason: expect.stringMatching(/^budget exhausted: 4,000 tokens of 4,500 tokens spent/) });
    expect(budgetAdmission(budget, spent(4000), 1, { tokens: 1000, usd: null })).toEqual({ room: 0, exhausted: false });
    expect(budgetAdmission(budget, spent(5000), 1, { tokens: 1000, usd: null })).toEqual({ room: 0, exhausted: true, reason: 'budget spent: 5,000 tokens of 4,500 tokens' });
  });

  it('takes the tighter of two caps, and a dollar cap is never spent by agents that report no cost', () => {
    const both = { tokens: 100_000, usd: 1, onExhausted: 'finish' as const };
    expect(budgetAdmission(both, spent(1000, 0.5), 0, { tokens: 1000, usd: 0.25 })).toEqual({ room: 2, exhausted: false });
    expect(budgetAdmission({ usd: 1, onExhausted: 'finish' }, spent(1_000_000), 0, unknown)).toEqual({ room: 1, exhausted: false });
  });
});

describe('the budget as a view shows it, and what crosses its thresholds', () => {
  it('shows what is left of each cap, never below zero', () => {
    expect(budgetStatus({ tokens: 1000, usd: 2, onExhausted: 'stop' }, spent(1500, 0.5), { tokens: 500, usd: 0.1 })).toEqual({
      tokens: 1000,
      usd: 2,
      onExhausted: 'stop',
      left: { tokens: 0, usd: 1.5 },
      exhausted: true,
    });
  });

  it('names the caps spent, and each threshold crossed once by a move from before to after', () => {
    const budget = { tokens: 1000, usd: 1, onExhausted: 'stop' as const };
    expect(capsSpent(budget, spent(1000, 0.2))).toEqual(['tokens']);
    expect(thresholdsCrossed(budget, spent(700, 0.1), spent(1200, 0.85), [80, 100])).toEqual([
      { cap: 'tokens', threshold: 80, spent: 1200, budget: 1000 },
      { cap: 'tokens', threshold: 100, spent: 1200, budget: 1000 },
      { cap: 'usd', threshold: 80, spent: 0.85, budget: 1 },
    ]);
    expect(thresholdsCrossed(budget, spent(850, 0.85), spent(900, 0.9), [80, 100])).toEqual([]);
  });
});
