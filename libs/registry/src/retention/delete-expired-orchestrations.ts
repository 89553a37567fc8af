import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger, PeriodicTask } from '@hub/config';
import { deleteOrchestrationWithin } from '../orchestrations/orchestration-deletion';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';
import { SessionStore } from '../store/session-store';

const DAY_MS = 24 * 60 * 60_000;
const CHECK_INTERVAL_MS = 10 * 60_000;
/** Orchestrations deleted per batch (each in its own transaction) when the settings name no size. */
export const DEFAULT_RETENTION_BATCH = 100;
/** Batches per pass: a backlog (retention just turned on) is worked off over several passes. */
const MAX_BATCHES_PER_PASS = 10;

/**
 * Retention (HUB_RETENTION_DAYS): every CHECK_INTERVAL_MS, the orchestrations whose every session
 * ended more than that many days ago are deleted, by the same path as `DELETE /orchestrations/:id`
 * (deleteOrchestrationWithin: rows, then `orchestration.deleted`, on which a runner removes their
 * objects), a bounded batch at a time, each orchestration in its own transaction. 0 keeps everything.
 */
@Injectable()
export class DeleteExpiredOrchestrations extends PeriodicTask {
  constructor(
    private readonly store: SessionStore,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {
    super({ everyMs: CHECK_INTERVAL_MS, atStart: false });
  }

  private get days(): number {
    return this.settings.retention?.days ?? 0;
  }

  private get batchSize(): number {
    return this.settings.retention?.batchSize ?? DEFAULT_RETENTION_BATCH;
  }

  /** One pass: batches until none is left or MAX_BATCHES_PER_PASS ran; how many orchestrations it deleted. */
  async runOnce(): Promise<number> {
    if (this.days <= 0) return 0;
    let deleted = 0;
    try {
      for (let batch = 0; batch < MAX_BATCHES_PER_PASS; batch++) {
        const { found, deleted: inBatch } = await this.deleteBatch();
        deleted += inBatch;
        if (found < this.batchSize) break;
      }
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, deleted }, 'could not delete expired orchestrations; will retry');
    }
    if (deleted) this.logger.info({ deleted, retentionDays: this.days }, 'expired orchestrations deleted');
    return deleted;
  }

  /**
   * Up to one batch of the oldest orchestrations ended more than the retention ago, each checked again
   * under its lock (one re-run since it was listed stays) and deleted in its own transaction.
   */
  async deleteBatch(): Promise<{ found: number; deleted: number }> {
    if (this.days <= 0) return { found: 0, deleted: 0 };
    const endedBefore = new Date(Date.now() - this.days * DAY_MS);
    const expired = await this.store.orchestrationsEndedBefore(endedBefore, this.batchSize);
    let deleted = 0;
    for (const orchestrationId of expired) {
      const done = await this.store.transaction(async (tx) => {
        if (!(await tx.lockOrchestration(orchestrationId))) return false;
        if (!(await tx.orchestrationsEndedBefore(endedBefore, 1, orchestrationId)).length) return false;
        const sessionIds = await deleteOrchestrationWithin(tx, orchestrationId);
        this.logger.info({ orchestrationId, sessions: sessionIds.length, retentionDays: this.days }, 'orchestration deleted by retention');
        return true;
      });
      if (done) deleted++;
    }
    return { found: expired.length, deleted };
  }
}
