import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { addUsage, Budget, BUDGET_THRESHOLDS, HELD_STATUSES, NO_USAGE, Usage } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { SessionRecord } from '../store/session-record';
import { SessionTransaction } from '../store/session-store';
import { capsSpent, thresholdsCrossed } from './budget-admission';

/** What an attempt's usage made of its session's and orchestration's totals. */
export interface Spent {
  sessionTotal: Usage;
  orchestrationTotal: Usage;
  budget: Budget | null;
}

/**
 * Adds what an attempt spent to its session and its orchestration (under the orchestration's row
 * lock, so concurrent ends add up exactly), announces the budget thresholds it crossed, and, when
 * the budget is spent and says `stop`, asks the runners to stop the orchestration's other running sessions.
 */
@Injectable()
export class RecordUsage {
  constructor(@Inject(HUB_LOGGER) private readonly logger: HubLogger) {}

  async record(tx: SessionTransaction, session: SessionRecord, attempt: number, usage: Usage): Promise<Spent> {
    const spending = await tx.lockOrchestrationSpending(session.orchestrationId);
    const before = spending?.usage ?? NO_USAGE;
    const sessionTotal = addUsage(session.usage ?? NO_USAGE, usage);
    const orchestrationTotal = addUsage(before, usage);
    const budget = spending?.budget ?? null;
    const announced = spending?.announced ?? [];
    const crossed = budget
      ? thresholdsCrossed(budget, before, orchestrationTotal, BUDGET_THRESHOLDS).filter((c) => !announced.includes(`${c.cap}:${c.threshold}`))
      : [];
    await tx.setOrchestrationSpending(session.orchestrationId, orchestrationTotal, [
      ...announced,
      ...crossed.map((c) => `${c.cap}:${c.threshold}`),
    ]);
    await tx.appendEvents([
      newEvent('session.usage-recorded', {
        sessionId: session.id,
        orchestrationId: session.orchestrationId,
        attempt,
        usage,
        sessionTotal,
        orchestrationTotal,
      }),
      ...crossed.map((c) =>
        newEvent('orchestration.budget-threshold', {
          orchestrationId: session.orchestrationId,
          cap: c.cap,
          threshold: c.threshold as (typeof BUDGET_THRESHOLDS)[number],
          spent: c.spent,
          budget: c.budget,
        }),
      ),
    ]);
    for (const c of crossed) {
      this.logger.info(
        { orchestrationId: session.orchestrationId, sessionId: session.id, cap: c.cap, threshold: c.threshold, spent: c.spent, budget: c.budget },
        c.threshold >= 100 ? 'budget spent' : `budget ${c.threshold} % spent`,
      );
    }
    return { sessionTotal, orchestrationTotal, budget };
  }

  /** With `onExhausted: stop` and a cap spent: the orchestration's other running sessions are stopped, saying why. */
  async afterSpending(tx: SessionTransaction, session: SessionRecord, spent: Spent): Promise<void> {
    if (spent.budget?.onExhausted !== 'stop') return;
    const caps = capsSpent(spent.budget, spent.orchestrationTotal);
    if (!caps.length) return;
    const running = (await tx.sessionsIn(session.orchestrationId, HELD_STATUSES)).filter((s) => s.id !== session.id);
    if (!running.length) return;
    const why = `because its orchestration's budget is spent (${caps.join(' and ')}; onExhausted: stop)`;
    await tx.markCancelRequested(
      running.map((s) => s.id),
      why,
    );
    await tx.appendEvents(running.map((s) => newEvent('session.cancel-requested', { sessionId: s.id, runnerId: s.runnerId })));
    this.logger.info({ orchestrationId: session.orchestrationId, sessions: running.length, caps }, `stopping ${running.length} running session(s): budget spent`);
  }
}
