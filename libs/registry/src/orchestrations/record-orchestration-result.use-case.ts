import { Inject, Injectable } from '@nestjs/common';
import { EventOf } from '@hub/contracts';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { SessionStore } from '../store/session-store';

/** Keeps what a runner reported an orchestration produced (its combined change, its push); a repeat overwrites it with the same. */
@Injectable()
export class RecordOrchestrationResult {
  constructor(
    private readonly store: SessionStore,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  async execute(event: EventOf<'orchestration.result'>): Promise<void> {
    const { orchestrationId, result } = event.data;
    const outcome = await this.store.transaction(async (tx) => {
      if (!(await tx.lockOrchestration(orchestrationId))) return 'unknown';
      // Re-run since it finished (retry): this result is of the run before, and the new one will come.
      if ((await tx.unfinishedCount(orchestrationId)) > 0) return 'running again';
      await tx.setOrchestrationResult(orchestrationId, result);
      return 'recorded';
    });
    if (outcome !== 'recorded') {
      this.logger.warn({ orchestrationId, outcome }, `result ignored: the orchestration is ${outcome}`);
      return;
    }
    this.logger.info(
      {
        orchestrationId,
        headCommit: result.changes?.headCommit ?? null,
        files: result.changes?.files ?? 0,
        reason: result.reason,
        publish: result.publish && { branch: result.publish.branch, status: result.publish.status, reason: result.publish.reason },
      },
      'orchestration result recorded',
    );
  }
}
