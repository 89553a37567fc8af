import { Injectable } from '@nestjs/common';
import { conflict, DeletedSession, isTerminal, notFound } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { deleteOrchestrationWithin, SESSIONS_NAMED, sessionList } from '../orchestrations/orchestration-deletion';
import { SessionStore } from '../store/session-store';

/**
 * Deletes the tenant's session once it has ended, when no session depends on it (a dependent needs
 * its output and changes, a continuation its conversation): its row, dependencies and attempts, with
 * `session.deleted`, on which a runner removes its objects. Its orchestration goes with its last
 * session (`orchestration.deleted`). A conflict, saying why, otherwise; nothing is deleted then.
 */
@Injectable()
export class DeleteSession {
  constructor(private readonly store: SessionStore) {}

  /** Another tenant's session is one that does not exist. */
  async execute(sessionId: string, tenant: string): Promise<DeletedSession> {
    return this.store.transaction(async (tx) => {
      const orchestrationId = (await tx.orchestrationsOf([sessionId], tenant)).get(sessionId);
      if (!orchestrationId) throw notFound('session', sessionId);
      // As a re-run of it does, and so one at a time with re-runs, retries and a new dependent joining.
      await tx.lockOrchestration(orchestrationId);
      const [current] = await tx.statuses([sessionId]);
      if (!current) throw notFound('session', sessionId);
      if (!isTerminal(current.status)) {
        throw conflict(`cannot delete session ${sessionId}: it has not ended (it is ${current.status}); cancel it first`, { status: current.status });
      }
      const dependents = await tx.dependentsOf(sessionId, SESSIONS_NAMED);
      if (dependents.total) {
        throw conflict(
          `cannot delete session ${sessionId}: ${dependents.total === 1 ? '1 session depends' : `${dependents.total} sessions depend`} ` +
            `on it (${sessionList(dependents.sessions, dependents.total)}); delete them first, or its whole orchestration`,
          { dependents: dependents.sessions },
        );
      }
      await tx.deleteSession(sessionId);
      await tx.appendEvents([newEvent('session.deleted', { sessionId, orchestrationId })]);
      const orchestrationDeleted = (await tx.sessionCount(orchestrationId)) === 0;
      if (orchestrationDeleted) await deleteOrchestrationWithin(tx, orchestrationId, [sessionId]);
      return { id: sessionId, orchestrationId, orchestrationDeleted };
    });
  }
}
