import { Injectable } from '@nestjs/common';
import { conflict, DeletedOrchestration, notFound } from '@hub/contracts';
import { SessionStore } from '../store/session-store';
import { deleteOrchestrationWithin, SESSIONS_NAMED, sessionList } from './orchestration-deletion';

/**
 * Deletes the tenant's orchestration once every session of it has ended: its rows (sessions, their
 * dependencies and attempts, the orchestration) in one transaction, with `orchestration.deleted`,
 * on which a runner removes their outputs, logs and changes, and its result, from the object store.
 * A conflict naming the sessions that have not ended otherwise; nothing is deleted then.
 */
@Injectable()
export class DeleteOrchestration {
  constructor(private readonly store: SessionStore) {}

  /** Another tenant's orchestration is one that does not exist. */
  async execute(orchestrationId: string, tenant: string): Promise<DeletedOrchestration> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.orchestrationExists(orchestrationId, tenant))) throw notFound('orchestration', orchestrationId);
      // Re-runs, retries and the decision that it finished take its row first, and a session joining
      // it waits for the row (its foreign key): none of them can slip in under the deletion.
      if (!(await tx.lockOrchestration(orchestrationId))) throw notFound('orchestration', orchestrationId);
      const { sessions, total } = await tx.sessionsNotEnded(orchestrationId, SESSIONS_NAMED);
      if (total) {
        throw conflict(
          `cannot delete orchestration ${orchestrationId}: ${total === 1 ? '1 of its sessions has' : `${total} of its sessions have`} ` +
            `not ended (${sessionList(sessions, total)}); cancel it first, or wait until they end`,
          { sessions },
        );
      }
      const name = await tx.orchestrationName(orchestrationId);
      const sessionIds = await deleteOrchestrationWithin(tx, orchestrationId);
      return { id: orchestrationId, name, sessionCount: sessionIds.length };
    });
  }
}
