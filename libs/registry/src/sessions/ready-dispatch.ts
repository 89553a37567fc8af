import { Injectable } from '@nestjs/common';
import { SessionStatus } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { SessionRecord } from '../store/session-record';
import { SessionTransaction } from '../store/session-store';

const HOLDS_A_PLACE: readonly SessionStatus[] = ['ready', 'starting', 'running'];

/**
 * Hands ready sessions to the runners (`session.ready`). An orchestration with maxParallel has its
 * ready sessions held back while that many are in flight, and released in order of readiness as
 * places free. Runs inside the transaction of every move, so the count it decides on is exact.
 */
@Injectable()
export class ReadyDispatch {
  async afterMove(tx: SessionTransaction, session: SessionRecord, previous: SessionStatus): Promise<void> {
    const becameReady = session.status === 'ready';
    const freedAPlace = HOLDS_A_PLACE.includes(previous) && !['starting', 'running'].includes(session.status);
    if (!becameReady && !freedAPlace) return;

    const maxParallel = await tx.orchestrationMaxParallel(session.orchestrationId);
    if (maxParallel === null) {
      if (becameReady) await this.dispatch(tx, session.orchestrationId, [session]);
      return;
    }
    await tx.lockOrchestration(session.orchestrationId);
    const room = maxParallel - (await tx.inFlightCount(session.orchestrationId));
    if (room > 0) await this.dispatch(tx, session.orchestrationId, await tx.undispatchedReady(session.orchestrationId, room));
  }

  private async dispatch(
    tx: SessionTransaction,
    orchestrationId: string,
    sessions: { id: string; attempt: number; readyAt: Date | null }[],
  ): Promise<void> {
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
        }),
      ),
    );
  }
}
