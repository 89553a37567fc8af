import { Inject, Injectable } from '@nestjs/common';
import { conflict, EventEnvelope, notFound, SessionStatus, statusesThatMayMoveTo } from '@hub/contracts';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { newEvent } from '../outbox/new-event';
import { SessionChanges, SessionRecord } from '../store/session-record';
import { MovedSession, SessionStore, SessionTransaction } from '../store/session-store';
import { ReadyDispatch } from './ready-dispatch';
import { OrchestrationCompletion } from '../orchestrations/orchestration-completion';
import { RegistryMetrics } from '../registry-metrics';

export interface Transition {
  sessionId: string;
  to: SessionStatus;
  /** Statuses the move is accepted from; by default every status the lifecycle allows it from. */
  from?: readonly SessionStatus[];
  reason: string | null;
  changes?: SessionChanges;
  /** Only if the session is on this attempt (a late report of an earlier attempt changes nothing). */
  attempt?: number;
  /** Only if the session is on this run (a late decision about a run before a re-run changes nothing). */
  run?: number;
  /** Only if this runner holds the session's claim (a report from another runner changes nothing). */
  runnerId?: string;
  /** Further events that happen with the move (written to the outbox in the same transaction). */
  alsoEmit?: (session: SessionRecord) => EventEnvelope[];
}

export interface BulkTransition {
  scope: { orchestrationId: string } | { sessionIds: string[] };
  to: SessionStatus;
  from?: readonly SessionStatus[];
  reason: string;
  finishedAt?: Date;
  changes?: SessionChanges;
  alsoEmit?: (moved: MovedSession[]) => EventEnvelope[] | Promise<EventEnvelope[]>;
}

/**
 * The one way a session's status changes: a compare-and-set, its `session.status-changed` event and
 * any further events, committed together, then relayed. A redelivered message finds the session
 * already moved and changes nothing.
 */
@Injectable()
export class SessionTransitions {
  constructor(
    private readonly store: SessionStore,
    private readonly dispatch: ReadyDispatch,
    private readonly completion: OrchestrationCompletion,
    private readonly metrics: RegistryMetrics,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  /** Moves a session if it may; returns the moved session, or null when it was not in a `from` status. */
  async move(transition: Transition): Promise<SessionRecord | null> {
    return this.store.transaction(async (tx) => {
      await this.dispatch.beforeMove(tx, transition.sessionId, transition.from ?? statusesThatMayMoveTo(transition.to), transition.to);
      return this.moveWithin(tx, transition);
    });
  }

  /** Like move, but a session that cannot move is an error the caller sees (404 or 409). */
  async moveOrExplain(transition: Transition, action: string): Promise<SessionRecord> {
    const moved = await this.move(transition);
    if (moved) return moved;
    const current = await this.store.getSession(transition.sessionId);
    if (!current) throw notFound('session', transition.sessionId);
    throw conflict(`cannot ${action} session ${current.id}: it is ${current.status}`, { status: current.status });
  }

  /**
   * Moves a session inside the caller's transaction. One that may free or fill a place of a tenant
   * with maxConcurrentSessions should have taken the tenant's lock before any row (ReadyDispatch's
   * beforeMove or lockTenant), as move does: see ReadyDispatch on the lock order.
   */
  async moveWithin(tx: SessionTransaction, t: Transition): Promise<SessionRecord | null> {
    const from = t.from ?? statusesThatMayMoveTo(t.to);
    const result = await tx.compareAndSet(t.sessionId, from, t.to, { statusReason: t.reason, ...t.changes }, { attempt: t.attempt, run: t.run, runnerId: t.runnerId });
    if (!result) return null;
    const { record, previousStatus } = result;
    this.metrics.moved(record);
    await tx.appendEvents([
      newEvent('session.status-changed', {
        sessionId: record.id,
        orchestrationId: record.orchestrationId,
        from: previousStatus,
        to: record.status,
        reason: t.reason,
        exitCode: record.exitCode,
        containerId: record.containerId,
        at: new Date().toISOString(),
      }),
      ...(t.alsoEmit?.(record) ?? []),
    ]);
    this.logger.info(
      {
        sessionId: record.id,
        from: previousStatus,
        to: record.status,
        reason: t.reason,
        containerId: record.containerId,
        exitCode: record.exitCode,
        attempt: record.attempt,
      },
      `session ${previousStatus} -> ${record.status}`,
    );
    const refusal = await this.dispatch.afterMove(tx, record, previousStatus);
    if (refusal) {
      // The sessions its budget cannot cover end with this move; whether that ends the orchestration
      // is decided once, after them (moveManyWithin), not twice.
      await this.moveManyWithin(tx, {
        scope: { sessionIds: refusal.sessionIds },
        from: ['ready'],
        to: 'skipped',
        reason: refusal.reason,
        finishedAt: new Date(),
      });
    } else {
      await this.completion.afterMove(tx, record.orchestrationId, record.status);
    }
    return record;
  }

  /**
   * Moves many sessions at once (a whole orchestration started, cancelled or re-run), each by
   * compare-and-set, with one `session.status-changed` per session moved and one log line.
   */
  async moveManyWithin(tx: SessionTransaction, t: BulkTransition): Promise<MovedSession[]> {
    const from = t.from ?? statusesThatMayMoveTo(t.to);
    const moved = await tx.compareAndSetMany(t.scope, from, t.to, { statusReason: t.reason, finishedAt: t.finishedAt, ...t.changes });
    if (!moved.length) return moved;
    this.metrics.movedMany(t.to, moved.length);
    const at = new Date().toISOString();
    const extra = (await t.alsoEmit?.(moved)) ?? [];
    await tx.appendEvents([
      ...moved.map((m) =>
        newEvent('session.status-changed', {
          sessionId: m.id,
          orchestrationId: m.orchestrationId,
          from: m.previousStatus,
          to: t.to,
          reason: t.reason,
          exitCode: null,
          containerId: m.containerId,
          at,
        }),
      ),
      ...extra,
    ]);
    this.logger.info(
      { ...t.scope, sessions: moved.length, to: t.to, reason: t.reason },
      `${moved.length} session(s) -> ${t.to}`,
    );
    await this.dispatch.afterBulkMove(tx, moved);
    for (const orchestrationId of new Set(moved.map((m) => m.orchestrationId))) {
      await this.completion.afterMove(tx, orchestrationId, t.to);
    }
    return moved;
  }
}
