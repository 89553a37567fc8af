import { Injectable } from '@nestjs/common';
import { ACTIVE_STATUSES, conflict, NOT_COMPLETED_STATUSES, notFound, OrchestrationSummary } from '@hub/contracts';
import { StartSession } from '../sessions/start-session.use-case';
import { OrchestrationReads } from '../store/orchestration-reads';
import { SessionStore } from '../store/session-store';

/**
 * Runs an ended orchestration again where it did not complete, like `argo retry`: its failed,
 * timed-out, cancelled and skipped sessions wait for their dependencies again as their next run
 * (StartSession.startNewRun); completed ones keep their results, and count as completed for the
 * others. Its recorded result goes, since it will finish again. A conflict, changing nothing, while
 * any of its sessions is on its way, or when none is to run again.
 */
@Injectable()
export class RetryOrchestration {
  constructor(
    private readonly store: SessionStore,
    private readonly reads: OrchestrationReads,
    private readonly startSession: StartSession,
  ) {}

  /** Retries the tenant's orchestration; another tenant's is one that does not exist. */
  async execute(orchestrationId: string, tenant: string): Promise<OrchestrationSummary> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.orchestrationExists(orchestrationId, tenant))) throw notFound('orchestration', orchestrationId);
      // Re-runs in one orchestration, and the decision that it finished, take its row first: one at a time.
      if (!(await tx.lockOrchestration(orchestrationId))) throw notFound('orchestration', orchestrationId);
      const { status, counts } = (await this.reads.summary(orchestrationId, tx))!;
      const onTheirWay = ACTIVE_STATUSES.filter((s) => counts[s] > 0);
      if (onTheirWay.length) {
        const which = onTheirWay.map((s) => `${counts[s]} ${s}`).join(', ');
        throw conflict(`cannot retry orchestration ${orchestrationId}: it has not ended (sessions on their way: ${which})`, { status, counts });
      }
      const moved = await this.startSession.startNewRun(tx, { orchestrationId }, NOT_COMPLETED_STATUSES);
      if (!moved.length) {
        throw conflict(
          `cannot retry orchestration ${orchestrationId}: nothing to re-run (no session failed, timed out, was cancelled or skipped; ` +
            `${counts.completed} completed, ${counts.created} not started)`,
          { status, counts },
        );
      }
      await tx.clearOrchestrationResult(orchestrationId);
      return (await this.reads.summary(orchestrationId, tx))!;
    });
  }
}
