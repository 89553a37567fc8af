import { Injectable } from '@nestjs/common';
import { OrchestrationSummary } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { ReadyDispatch } from '../sessions/ready-dispatch';
import { SessionTransitions } from '../sessions/session-transitions';
import { OrchestrationReads } from '../store/orchestration-reads';
import { SessionStore } from '../store/session-store';

/**
 * Cancels the tenant's orchestration: sessions without a container become cancelled at once; those a runner
 * holds get `session.cancel-requested` (SIGTERM, then SIGKILL after the grace period) and become
 * cancelled when the runner reports their container gone.
 */
@Injectable()
export class CancelOrchestration {
  constructor(
    private readonly store: SessionStore,
    private readonly reads: OrchestrationReads,
    private readonly transitions: SessionTransitions,
    private readonly dispatch: ReadyDispatch,
  ) {}

  async execute(orchestrationId: string, tenant: string): Promise<OrchestrationSummary> {
    return this.store.transaction(async (tx) => {
      await this.reads.requireNotEnded(orchestrationId, tenant, 'cancel', tx);
      // Its sessions handed out free their places: the tenant's lock comes before any row (ReadyDispatch).
      await this.dispatch.lockTenant(tx, tenant);
      await this.transitions.moveManyWithin(tx, {
        scope: { orchestrationId },
        from: ['created', 'waiting', 'ready'],
        to: 'cancelled',
        reason: 'orchestration cancelled',
        finishedAt: new Date(),
      });
      const held = await tx.sessionsIn(orchestrationId, ['starting', 'running']);
      await tx.appendEvents(held.map((s) => newEvent('session.cancel-requested', { sessionId: s.id, runnerId: s.runnerId })));
      return (await this.reads.summary(orchestrationId, tx))!;
    });
  }
}
