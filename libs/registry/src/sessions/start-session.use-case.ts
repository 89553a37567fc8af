import { Injectable } from '@nestjs/common';
import { conflict, isTerminal, notFound, SessionView } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { OutboxRelay } from '../outbox/outbox-relay';
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
    private readonly relay: OutboxRelay,
  ) {}

  async execute(sessionId: string): Promise<SessionView> {
    const session = await this.store.transaction((tx) => this.within(tx, sessionId));
    this.relay.kick();
    return toSessionView(session);
  }

  async within(tx: SessionTransaction, sessionId: string): Promise<SessionRecord> {
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
}
