import { Injectable } from '@nestjs/common';
import { isTerminal, SessionStatus } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { SessionTransaction } from '../store/session-store';

/**
 * Says when an orchestration has finished: in the transaction of the move that ended its last
 * unfinished session, `orchestration.finished` goes to the outbox with that move. The orchestration's
 * row is locked first, so two sessions ending at once cannot each see the other still running (and
 * neither say it), nor both say it.
 */
@Injectable()
export class OrchestrationCompletion {
  async afterMove(tx: SessionTransaction, orchestrationId: string, to: SessionStatus): Promise<void> {
    if (!isTerminal(to)) return;
    if (!(await tx.lockOrchestration(orchestrationId))) return;
    if ((await tx.unfinishedCount(orchestrationId)) > 0) return;
    const summary = await tx.orchestrationSummary(orchestrationId);
    if (!summary) return;
    await tx.appendEvents([
      newEvent('orchestration.finished', {
        orchestrationId,
        status: summary.status,
        publish: summary.publish,
        at: new Date().toISOString(),
      }),
    ]);
  }
}
