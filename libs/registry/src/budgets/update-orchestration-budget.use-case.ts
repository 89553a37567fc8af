import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { BUDGET_THRESHOLDS, NO_USAGE, notFound, OrchestrationSummary, UpdateOrchestrationCommand } from '@hub/contracts';
import { OrchestrationReads } from '../store/orchestration-reads';
import { SessionStore } from '../store/session-store';
import { thresholdsCrossed } from './budget-admission';

/**
 * Replaces the tenant's orchestration's budget (null removes it). What was spent stays; the thresholds are
 * announced again when crossed under the new budget. Sessions already skipped for the old budget stay
 * skipped until the orchestration is retried; ready sessions it held back are handed on at the next move.
 */
@Injectable()
export class UpdateOrchestrationBudget {
  constructor(
    private readonly store: SessionStore,
    private readonly reads: OrchestrationReads,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  async execute({ orchestrationId, budget }: UpdateOrchestrationCommand, tenant: string): Promise<OrchestrationSummary> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.orchestrationExists(orchestrationId, tenant))) throw notFound('orchestration', orchestrationId);
      const spending = await tx.lockOrchestrationSpending(orchestrationId);
      if (!spending) throw notFound('orchestration', orchestrationId);
      await tx.setOrchestrationBudget(orchestrationId, budget);
      // The thresholds already passed under the new budget count as announced; the others will be.
      const passed = budget ? thresholdsCrossed(budget, NO_USAGE, spending.usage, BUDGET_THRESHOLDS) : [];
      await tx.setOrchestrationSpending(orchestrationId, spending.usage, passed.map((c) => `${c.cap}:${c.threshold}`));
      this.logger.info({ orchestrationId, budget, spent: spending.usage }, budget ? 'budget changed' : 'budget removed');
      return (await this.reads.summary(orchestrationId, tx))!;
    });
  }
}
