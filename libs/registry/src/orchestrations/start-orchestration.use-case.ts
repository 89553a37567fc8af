import { Injectable } from '@nestjs/common';
import { OrchestrationSummary } from '@hub/contracts';
import { StartSession } from '../sessions/start-session.use-case';
import { OrchestrationReads } from '../store/orchestration-reads';
import { SessionStore } from '../store/session-store';

/** Starts every session of the tenant's orchestration nobody has started yet; each still waits for its dependencies. */
@Injectable()
export class StartOrchestration {
  constructor(
    private readonly store: SessionStore,
    private readonly reads: OrchestrationReads,
    private readonly startSession: StartSession,
  ) {}

  async execute(orchestrationId: string, tenant: string): Promise<OrchestrationSummary> {
    return this.store.transaction(async (tx) => {
      await this.reads.requireNotEnded(orchestrationId, tenant, 'start', tx);
      await this.startSession.startMany(tx, { orchestrationId }, 'orchestration started');
      return (await this.reads.summary(orchestrationId, tx))!;
    });
  }
}
