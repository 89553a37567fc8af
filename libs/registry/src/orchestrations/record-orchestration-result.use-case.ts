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
    const found = await this.store.transaction((tx) => tx.setOrchestrationResult(orchestrationId, result));
    if (!found) {
      this.logger.warn({ orchestrationId }, 'result of an unknown orchestration ignored');
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
