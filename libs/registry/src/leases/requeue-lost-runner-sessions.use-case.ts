import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { HELD_STATUSES, RUNNER_LOST_REASON, SessionStatus } from '@hub/contracts';
import { ReadyDispatch } from '../sessions/ready-dispatch';
import { SessionTransitions } from '../sessions/session-transitions';
import { HeldRow, SessionStore } from '../store/session-store';

/** How many of a lost runner's sessions are read at a time. */
const PAGE = 200;
/**
 * How many times one run of a session may lose its runner before it ends failed: a session whose agent
 * brings its host down each time must not take every host down in turn.
 */
export const MAX_RUNNER_LOSSES = 3;

/** Why a runner's lease lapsed, as the reasons say it. */
export interface LeaseLapse {
  runnerId: string;
  /** Its last heartbeat the registry saw (or when it began watching, for a runner it never saw). */
  lastSeenAt: Date;
  graceSeconds: number;
}

/**
 * A runner stopped heartbeating for longer than its lease grace: every session it holds (starting or
 * running) goes back to `ready` for another runner, its attempt recorded as lost (`runner_lost: …`),
 * its retries unspent, its `session.ready` published again (ReadyDispatch, through the outbox). The
 * session's runner is cleared; the old runner's late `container.started`/`container.exited` for that
 * attempt then matches neither the session's runner nor, once it is claimed again, its attempt, and
 * changes nothing. A cancel asked for meanwhile ends it `cancelled`; a run that lost its runner
 * MAX_RUNNER_LOSSES times ends `failed`.
 */
@Injectable()
export class RequeueLostRunnerSessions {
  constructor(
    private readonly store: SessionStore,
    private readonly transitions: SessionTransitions,
    private readonly dispatch: ReadyDispatch,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  /** Moves every session the runner holds; answers how many moved. */
  async execute(lapse: LeaseLapse): Promise<number> {
    let moved = 0;
    let after: string | undefined;
    do {
      const page = await this.store.heldBy(lapse.runnerId, after, PAGE);
      for (const held of page) if (await this.requeue(held, lapse)) moved++;
      after = page.length === PAGE ? page[page.length - 1].sessionId : undefined;
    } while (after);
    return moved;
  }

  private requeue(held: HeldRow, lapse: LeaseLapse): Promise<boolean> {
    const { sessionId, attempt } = held;
    const why = `runner ${lapse.runnerId} stopped heartbeating at ${lapse.lastSeenAt.toISOString()} (lease grace ${lapse.graceSeconds} s)`;
    return this.store.transaction(async (tx) => {
      // The move frees a place (or takes one back): a limited tenant's lock comes before any row (ReadyDispatch).
      await this.dispatch.lockTenantOf(tx, sessionId);
      await tx.lockSession(sessionId);
      const session = await tx.getSession(sessionId);
      const stillHeld =
        session?.runnerId === lapse.runnerId && session.attempt === attempt && (HELD_STATUSES as readonly SessionStatus[]).includes(session.status);
      if (!session || !stillHeld) return false;
      const thisRun = session.attempts.filter((a) => a.attempt > session.attemptsBeforeRun);
      const lostBefore = thisRun.filter((a) => a.reason?.startsWith(RUNNER_LOST_REASON)).length;
      const cancelled = session.cancelRequestedAt !== null;
      const retry = !cancelled && lostBefore < MAX_RUNNER_LOSSES;
      const now = new Date();
      const attemptReason = `${RUNNER_LOST_REASON}: ${why}`;
      await tx.recordAttempt({
        sessionId,
        attempt,
        status: 'failed',
        reason: attemptReason,
        exitCode: null,
        containerId: session.containerId,
        runnerId: lapse.runnerId,
        usage: null,
        finishedAt: now,
      });
      const to: SessionStatus = retry ? 'ready' : cancelled ? 'cancelled' : 'failed';
      const reason = retry
        ? `attempt ${attempt} lost: ${why}; running it again on another runner (its retries unspent)`
        : cancelled
          ? `cancelled ${session.cancelReason ?? 'on request'} (attempt ${attempt} lost: ${why})`
          : `${attemptReason}; its runner was lost ${lostBefore + 1} times in this run`;
      const moved = await this.transitions.moveWithin(tx, {
        sessionId,
        attempt,
        runnerId: lapse.runnerId,
        from: HELD_STATUSES,
        to,
        reason,
        changes: retry ? { runnerId: null, readyAt: now, dispatchedAt: null } : { finishedAt: now },
      });
      if (moved) this.logger.warn({ sessionId, attempt, runnerId: lapse.runnerId, containerId: session.containerId, to }, `session taken from a lost runner: ${reason}`);
      return moved !== null;
    });
  }
}
