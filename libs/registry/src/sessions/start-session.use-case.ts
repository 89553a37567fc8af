import { Injectable } from '@nestjs/common';
import { conflict, isTerminal, notFound, SessionView } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { SessionRecord, toSessionView } from '../store/session-record';
import { SessionStore, SessionTransaction } from '../store/session-store';
import { SessionTransitions } from './session-transitions';

/**
 * Asks a session to start: created → waiting, with `session.start-requested` for the resolver.
 * Asking again while it is on its way is harmless; asking once it has ended is a conflict.
 */
@Injectable()
export class StartSession {
  constructor(
    private readonly store: SessionStore,
    private readonly transitions: SessionTransitions,
  ) {}

  async execute(sessionId: string): Promise<SessionView> {
    const session = await this.store.transaction((tx) => this.within(tx, sessionId));
    return toSessionView(session);
  }

  async within(tx: SessionTransaction, sessionId: string): Promise<SessionRecord> {
    // A session cannot run before its dependencies: those nobody asked to start are started with it.
    const ancestors = await tx.ancestorsNotStarted(sessionId);
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
    const moved = await this.transitions.moveManyWithin(tx, {
      scope,
      from: ['created'],
      to: 'waiting',
      reason,
      alsoEmit: async (sessions) => {
        const dependencies = await tx.dependenciesOf(sessions.map((s) => s.id));
        return sessions.map((s) =>
          newEvent('session.start-requested', {
            sessionId: s.id,
            orchestrationId: s.orchestrationId,
            dependsOn: dependencies.get(s.id) ?? [],
          }),
        );
      },
    });
    return moved.length;
  }
}
