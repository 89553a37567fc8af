import { Injectable } from '@nestjs/common';
import { MAX_ORCHESTRATION_SESSIONS, SessionStatus } from '@hub/contracts';
import { budgetAdmission } from '../budgets/budget-admission';
import { newEvent } from '../outbox/new-event';
import { SessionRecord } from '../store/session-record';
import { ReadySession, SessionTransaction } from '../store/session-store';

const HOLDS_A_PLACE: readonly SessionStatus[] = ['ready', 'starting', 'running'];

/** Ready sessions a budget cannot cover: they end `skipped` with `reason`. */
export interface BudgetRefusal {
  sessionIds: string[];
  reason: string;
}

/**
 * Hands ready sessions to the runners (`session.ready`). An orchestration with maxParallel has its
 * ready sessions held back while that many are in flight; one with a budget, while what is left
 * does not cover another (budgetAdmission); both are released in order of readiness as places free.
 * When the budget covers no further session, its ready sessions are refused (the caller skips them).
 * Runs inside the transaction of every move, so the counts it decides on are exact.
 */
@Injectable()
export class ReadyDispatch {
  async afterMove(tx: SessionTransaction, session: SessionRecord, previous: SessionStatus): Promise<BudgetRefusal | null> {
    const becameReady = session.status === 'ready';
    const freedAPlace = HOLDS_A_PLACE.includes(previous) && !['starting', 'running'].includes(session.status);
    if (!becameReady && !freedAPlace) return null;

    const limits = await tx.orchestrationLimits(session.orchestrationId);
    if (limits.maxParallel === null && limits.budget === null) {
      if (becameReady) await this.dispatch(tx, session.orchestrationId, [session]);
      return null;
    }
    const spending = await tx.lockOrchestrationSpending(session.orchestrationId);
    if (!spending) return null;
    const inFlight = await tx.inFlightCount(session.orchestrationId);
    let room = spending.maxParallel === null ? Number.POSITIVE_INFINITY : spending.maxParallel - inFlight;
    if (spending.budget) {
      const admission = budgetAdmission(spending.budget, spending.usage, inFlight, await tx.largestAttempt(session.orchestrationId));
      if (admission.exhausted) {
        const refused = await tx.undispatchedReady(session.orchestrationId, MAX_ORCHESTRATION_SESSIONS);
        return refused.length ? { sessionIds: refused.map((s) => s.id), reason: admission.reason } : null;
      }
      room = Math.min(room, admission.room);
    }
    if (room > 0) {
      const limit = Number.isFinite(room) ? room : MAX_ORCHESTRATION_SESSIONS;
      await this.dispatch(tx, session.orchestrationId, await tx.undispatchedReady(session.orchestrationId, limit));
    }
    return null;
  }

  private async dispatch(tx: SessionTransaction, orchestrationId: string, sessions: ReadySession[]): Promise<void> {
    if (!sessions.length) return;
    await tx.markDispatched(sessions.map((s) => s.id));
    const now = Date.now();
    await tx.appendEvents(
      sessions.map((s) =>
        newEvent('session.ready', {
          sessionId: s.id,
          orchestrationId,
          attempt: s.attempt + 1,
          notBefore: s.readyAt && s.readyAt.getTime() > now ? s.readyAt.toISOString() : null,
          image: s.image,
        }),
      ),
    );
  }
}
