import { Injectable } from '@nestjs/common';
import { conflict, isTerminal, notFound, SessionView } from '@hub/contracts';
import { toSessionView } from '../store/session-record';
import { SessionStore } from '../store/session-store';
import { StartSession } from './start-session.use-case';

/**
 * Runs an ended session again, however it ended (completed included), with the sessions downstream
 * of it that did not complete, reached through each other: each waits for its dependencies again
 * as its next run (StartSession.startNewRun). A completed dependent keeps its result. The
 * orchestration's recorded result goes, since it will finish again. A session on its way is a conflict.
 */
@Injectable()
export class RerunSession {
  constructor(
    private readonly store: SessionStore,
    private readonly startSession: StartSession,
  ) {}

  /** Re-runs the tenant's session; another tenant's is one that does not exist. */
  async execute(sessionId: string, tenant: string): Promise<SessionView> {
    const session = await this.store.transaction(async (tx) => {
      const orchestrationId = (await tx.orchestrationsOf([sessionId], tenant)).get(sessionId);
      if (!orchestrationId) throw notFound('session', sessionId);
      // Re-runs in one orchestration, and the decision that it finished, take its row first: one at a time.
      await tx.lockOrchestration(orchestrationId);
      const [{ status }] = await tx.statuses([sessionId]);
      if (!isTerminal(status)) throw conflict(`cannot re-run session ${sessionId}: it has not ended (it is ${status})`, { status });
      const dependents = await tx.dependentsNotCompleted(sessionId);
      await this.startSession.startNewRun(tx, { sessionIds: [sessionId, ...dependents] });
      await tx.clearOrchestrationResult(orchestrationId);
      return (await tx.getSession(sessionId))!;
    });
    return toSessionView(session);
  }
}
