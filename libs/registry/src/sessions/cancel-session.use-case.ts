import { Injectable } from '@nestjs/common';
import { conflict, isTerminal, notFound, SessionView } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { toSessionView } from '../store/session-record';
import { SessionStore } from '../store/session-store';
import { ReadyDispatch } from './ready-dispatch';
import { SessionTransitions } from './session-transitions';

/**
 * Cancels a session. One that has no container yet is cancelled at once; one a runner holds gets
 * `session.cancel-requested` (and the request is recorded on the session), and becomes `cancelled` when
 * the runner reports its container gone.
 */
@Injectable()
export class CancelSession {
  constructor(
    private readonly store: SessionStore,
    private readonly transitions: SessionTransitions,
    private readonly dispatch: ReadyDispatch,
  ) {}

  /** Cancels the tenant's session; another tenant's is one that does not exist. */
  async execute(sessionId: string, tenant: string): Promise<SessionView> {
    const session = await this.store.transaction(async (tx) => {
      if (!(await tx.sessionExists(sessionId, tenant))) throw notFound('session', sessionId);
      // A ready session cancelled frees a place: its tenant's lock comes before its row (ReadyDispatch).
      await this.dispatch.lockTenant(tx, tenant);
      const cancelled = await this.transitions.moveWithin(tx, {
        sessionId,
        from: ['created', 'waiting', 'ready'],
        to: 'cancelled',
        reason: 'cancelled on request',
        changes: { finishedAt: new Date() },
      });
      if (cancelled) return cancelled;
      const current = await tx.getSession(sessionId);
      if (!current) throw notFound('session', sessionId);
      if (isTerminal(current.status)) {
        throw conflict(`cannot cancel session ${sessionId}: it already ended ${current.status}`, {
          status: current.status,
        });
      }
      // Recorded as well as published: a runner that is down now adopts the session later and honours it then.
      await tx.markCancelRequested([sessionId]);
      await tx.appendEvents([newEvent('session.cancel-requested', { sessionId, runnerId: current.runnerId })]);
      return current;
    });
    return toSessionView(session);
  }
}
