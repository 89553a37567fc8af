import { Injectable } from '@nestjs/common';
import { conflict, isTerminal, notFound, SessionStatus, SessionView, TERMINAL_STATUSES } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { SessionRecord, toSessionView } from '../store/session-record';
import { MovedSession, SessionStore, SessionTransaction } from '../store/session-store';
import { SessionTransitions } from './session-transitions';

/** Why a re-run session waits again (its statusReason). */
export const RERUN_REASON = 're-run requested';

/**
 * Asks a session to start: created → waiting, with `session.start-requested` for the resolver.
 * Asking again while it is on its way is harmless; asking once it has ended is a conflict (a re-run
 * is asked for as such: startNewRun).
 */
@Injectable()
export class StartSession {
  constructor(
    private readonly store: SessionStore,
    private readonly transitions: SessionTransitions,
  ) {}

  /** Starts the tenant's session; another tenant's is one that does not exist. */
  async execute(sessionId: string, tenant: string): Promise<SessionView> {
    const session = await this.store.transaction(async (tx) => {
      if (!(await tx.sessionExists(sessionId, tenant))) throw notFound('session', sessionId);
      return this.within(tx, sessionId);
    });
    return toSessionView(session);
  }

  async within(tx: SessionTransaction, sessionId: string): Promise<SessionRecord> {
    // A session cannot run before its dependencies: those nobody asked to start are started with it.
    const ancestors = await tx.ancestorsNotStarted([sessionId]);
    if (ancestors.length) await this.startMany(tx, { sessionIds: ancestors }, `started with dependent ${sessionId}`);
    const moved = await this.transitions.moveWithin(tx, {
      sessionId,
      from: ['created'],
      to: 'waiting',
      reason: 'start requested',
      alsoEmit: (s) => [
        newEvent('session.start-requested', {
          sessionId: s.id,
          orchestrationId: s.orchestrationId,
          dependsOn: s.dependsOn,
          run: s.run,
        }),
      ],
    });
    if (moved) return moved;
    const current = await tx.getSession(sessionId);
    if (!current) throw notFound('session', sessionId);
    if (isTerminal(current.status)) {
      throw conflict(`cannot start session ${sessionId}: it already ended ${current.status}`, {
        status: current.status,
      });
    }
    return current;
  }

  /** created → waiting for many sessions in one statement, each with its `session.start-requested`. */
  async startMany(
    tx: SessionTransaction,
    scope: { orchestrationId: string } | { sessionIds: string[] },
    reason: string,
  ): Promise<number> {
    return (await this.requestMany(tx, scope, ['created'], reason)).length;
  }

  /**
   * Ended sessions (those of `scope` in one of `from`) back to waiting as their next run, in one
   * statement: the row cleared of the previous run (its attempts stay listed, the attempt counter
   * goes on, the retry budget is whole again), each with its `session.start-requested`, so the
   * resolver decides on it as on a start. Sessions they depend on that nobody started are started.
   */
  async startNewRun(
    tx: SessionTransaction,
    scope: { orchestrationId: string } | { sessionIds: string[] },
    from: readonly SessionStatus[] = TERMINAL_STATUSES,
  ): Promise<MovedSession[]> {
    const moved = await this.requestMany(tx, scope, from, RERUN_REASON, { startNewRun: true });
    const ancestors = moved.length ? await tx.ancestorsNotStarted(moved.map((s) => s.id)) : [];
    if (ancestors.length) await this.startMany(tx, { sessionIds: ancestors }, 'started with a re-run dependent');
    return moved;
  }

  private requestMany(
    tx: SessionTransaction,
    scope: { orchestrationId: string } | { sessionIds: string[] },
    from: readonly SessionStatus[],
    reason: string,
    changes?: { startNewRun: true },
  ): Promise<MovedSession[]> {
    return this.transitions.moveManyWithin(tx, {
      scope,
      from,
      to: 'waiting',
      reason,
      changes,
      alsoEmit: async (sessions) => {
        const dependencies = await tx.dependenciesOf(sessions.map((s) => s.id));
        return sessions.map((s) =>
          newEvent('session.start-requested', {
            sessionId: s.id,
            orchestrationId: s.orchestrationId,
            dependsOn: dependencies.get(s.id) ?? [],
            run: s.run,
          }),
        );
      },
    });
  }
}
