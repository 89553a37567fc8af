import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { ContainerExitCause, EventOf, HELD_STATUSES, RUNNER_LOST_REASON, SessionStatus } from '@hub/contracts';
import { RecordUsage } from '../budgets/record-usage';
import { newEvent } from '../outbox/new-event';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';
import { SessionStore } from '../store/session-store';
import { retryBackoffMs } from './retry-backoff';
import { ReadyDispatch } from './ready-dispatch';
import { SessionTransitions } from './session-transitions';

/** Causes worth another attempt; a missing or refused image, a timeout or a cancel are not. */
const RETRYABLE: readonly ContainerExitCause[] = ['exited', 'start_failed'];
const MAX_LOST_ATTEMPTS = 3;
/** How many times one run of a session waits for a rate or usage limit to reset before it ends failed. */
export const MAX_RATE_LIMIT_WAITS = 20;
/** The start of the reason of an attempt its model's API refused for a rate or usage limit. */
const RATE_LIMITED = 'rate_limited';

/**
 * Applies what runners report about containers: starting → running → a terminal status, or back to
 * ready when a failed attempt has retries left. Only a report of the session's current attempt counts,
 * and an end only from the runner that holds the session's claim.
 */
@Injectable()
export class RecordContainerOutcome {
  constructor(
    private readonly store: SessionStore,
    private readonly transitions: SessionTransitions,
    private readonly usage: RecordUsage,
    private readonly dispatch: ReadyDispatch,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  async started(event: EventOf<'container.started'>): Promise<void> {
    const { sessionId, containerId, startedAt, attempt, runnerId } = event.data;
    const moved = await this.transitions.move({
      sessionId,
      attempt,
      runnerId,
      from: ['starting'],
      to: 'running',
      reason: `container ${containerId.slice(0, 12)} started`,
      changes: { containerId, startedAt: new Date(startedAt) },
    });
    if (moved) return;
    const session = await this.store.getSession(sessionId);
    if (session && session.attempt === attempt && session.runnerId !== runnerId) {
      // As for container.exited: one runner must not move another's session.
      this.logger.warn(
        { sessionId, attempt, eventId: event.id, runnerId, claimedBy: session.runnerId },
        'container.started refused: it comes from a runner that does not hold the session',
      );
    }
  }

  async exited(event: EventOf<'container.exited'>): Promise<void> {
    const exit = event.data;
    const finishedAt = new Date(event.occurredAt);
    await this.store.transaction(async (tx) => {
      // The end frees a place: a limited tenant's lock comes before any row (ReadyDispatch).
      await this.dispatch.lockTenantOf(tx, exit.sessionId);
      // Locked until commit: a report delivered twice at once is applied once (its usage counted once).
      await tx.lockSession(exit.sessionId);
      const session = await tx.getSession(exit.sessionId);
      if (!session) return null;
      if (session.attempt !== exit.attempt) {
        // A late report of an earlier attempt (one its runner lost, say): its outcome is not the session's.
        this.logger.info(
          { sessionId: exit.sessionId, attempt: exit.attempt, currentAttempt: session.attempt, eventId: event.id, runnerId: exit.runnerId },
          'container.exited ignored: it reports an earlier attempt',
        );
        return null;
      }
      if (session.runnerId !== exit.runnerId) {
        // Only runners may publish container.exited (the bus's permissions), but one runner must not
        // end another's session: a report from any runner but the claim's holder changes nothing.
        this.logger.warn(
          { sessionId: exit.sessionId, attempt: exit.attempt, eventId: event.id, runnerId: exit.runnerId, claimedBy: session.runnerId },
          'container.exited refused: it comes from a runner that does not hold the session',
        );
        return null;
      }
      // A redelivered report finds the session moved on already: nothing more to record (its usage was counted).
      if (!(HELD_STATUSES as readonly SessionStatus[]).includes(session.status)) return null;
      const spent = exit.usage ? await this.usage.record(tx, session, exit.attempt, exit.usage) : null;
      // A cancel was accepted: whatever the attempt's end, it is not run again, and unless it completed it ends cancelled.
      const cancelRequested = session.cancelRequestedAt !== null;
      const outcome = finalStatusOf(exit, cancelRequested, session.cancelReason);
      // A lost container is the infrastructure's failure, not the agent's: run it again without
      // spending the session's own retries (up to MAX_LOST_ATTEMPTS times). Both budgets are per run:
      // only the attempts since the session was last re-run count.
      // So is a rate or usage limit of the agent's model API: it runs again once the limit resets.
      const thisRun = session.attempts.filter((a) => a.attempt > session.attemptsBeforeRun);
      const lostBefore = thisRun.filter((a) => a.reason?.startsWith('container_lost')).length;
      const limitedBefore = thisRun.filter((a) => a.reason?.startsWith(RATE_LIMITED)).length;
      // Attempts whose runner's lease lapsed (RequeueLostRunnerSessions) spent no retry either.
      const runnerLostBefore = thisRun.filter((a) => a.reason?.startsWith(RUNNER_LOST_REASON)).length;
      const failuresBefore = exit.attempt - 1 - session.attemptsBeforeRun - lostBefore - limitedBefore - runnerLostBefore;
      const rateLimit = outcome.status === 'failed' && exit.cause === 'exited' ? exit.rateLimit : null;
      const attemptReason = rateLimit ? `${RATE_LIMITED}: ${rateLimit.message} (${outcome.reason})` : outcome.reason;
      const retry =
        cancelRequested ? false
        : rateLimit ? limitedBefore < MAX_RATE_LIMIT_WAITS
        : exit.cause === 'container_lost'
          ? lostBefore < MAX_LOST_ATTEMPTS
          : outcome.status === 'failed' && RETRYABLE.includes(exit.cause) && failuresBefore < session.retries;
      const delayMs = exit.cause === 'container_lost' ? 0 : retryBackoffMs(this.settings.retryBackoffMs, failuresBefore + 1);
      const readyAt = rateLimit ? new Date(Math.max(Date.now(), Date.parse(rateLimit.resetAt))) : new Date(Date.now() + delayMs);
      const reason = !retry
        ? rateLimit
          ? `${attemptReason}; it waited for the limit ${MAX_RATE_LIMIT_WAITS} times in this run`
          : outcome.reason
        : rateLimit
          ? `attempt ${exit.attempt} rate limited by its model's API (${rateLimit.message}); ` +
            `waiting until ${readyAt.toISOString()} to run it again (its retries unspent)`
          : exit.cause === 'container_lost'
            ? `attempt ${exit.attempt} ${outcome.reason}; running it again`
            : `attempt ${exit.attempt} ${outcome.reason}; retry ${failuresBefore + 1} of ${session.retries} in ${delayMs} ms`;
      // Recorded before the move, so that what the move decides (a budget's admissions) knows what this attempt spent.
      await tx.recordAttempt({
        sessionId: exit.sessionId,
        attempt: exit.attempt,
        status: outcome.status,
        reason: attemptReason,
        exitCode: exit.exitCode,
        containerId: exit.containerId,
        runnerId: exit.runnerId,
        usage: exit.usage,
        finishedAt,
      });
      const record = await this.transitions.moveWithin(tx, {
        sessionId: exit.sessionId,
        attempt: exit.attempt,
        from: ['starting', 'running'],
        to: retry ? 'ready' : outcome.status,
        reason,
        alsoEmit: (s) =>
          retry && rateLimit
            ? [
                newEvent('session.rate-limited', {
                  sessionId: s.id,
                  orchestrationId: s.orchestrationId,
                  image: s.image,
                  attempt: exit.attempt,
                  resetAt: readyAt.toISOString(),
                  message: rateLimit.message,
                }),
              ]
            : [],
        changes: {
          exitCode: exit.exitCode,
          oomKilled: exit.oomKilled,
          ...(exit.containerId ? { containerId: exit.containerId } : {}),
          output: exit.output,
          changes: exit.changes ?? null,
          egressTraffic: exit.egress ?? null,
          log: { bytes: exit.logBytes, droppedBytes: exit.logDroppedBytes },
          ...(spent ? { usage: spent.sessionTotal } : {}),
          ...(retry ? { readyAt, dispatchedAt: null } : { finishedAt }),
        },
      });
      if (spent) await this.usage.afterSpending(tx, session, spent);
      return record;
    });
  }
}

/** The status and reason a container's end gives its session. */
export function finalStatusOf(
  exit: EventOf<'container.exited'>['data'],
  cancelRequested = false,
  /** Why Hub itself asked the cancel (a spent budget); null: a client asked. */
  cancelReason: string | null = null,
): { status: SessionStatus; reason: string } {
  const outcome = statusOfExit(exit);
  if (!cancelRequested || outcome.status === 'completed') return outcome;
  if (outcome.status === 'cancelled') return cancelReason ? { status: 'cancelled', reason: `cancelled ${cancelReason}` } : outcome;
  return { status: 'cancelled', reason: `cancelled ${cancelReason ?? 'on request'} (the attempt ended: ${outcome.reason})` };
}


function statusOfExit(exit: EventOf<'container.exited'>['data']): { status: SessionStatus; reason: string } {
  const detail = exit.detail ? `: ${exit.detail}` : '';
  switch (exit.cause) {
    case 'exited':
      if (exit.exitCode === 0) return { status: 'completed', reason: `exited with code 0${detail}` };
      return {
        status: 'failed',
        reason: `exited with code ${exit.exitCode}${exit.oomKilled ? ' (killed: out of memory)' : ''}${detail}`,
      };
    case 'timed_out':
      return { status: 'timed_out', reason: `timed_out: exceeded its time limit${detail}` };
    case 'cancelled':
      return { status: 'cancelled', reason: `cancelled on request${detail}` };
    case 'quota_exceeded':
      return { status: 'failed', reason: `quota_exceeded${detail}` };
    default:
      return { status: 'failed', reason: `${exit.cause}${detail}` };
  }
}
