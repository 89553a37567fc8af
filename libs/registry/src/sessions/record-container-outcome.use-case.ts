import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { ContainerExitCause, EventOf, SessionStatus } from '@hub/contracts';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';
import { SessionStore } from '../store/session-store';
import { retryBackoffMs } from './retry-backoff';
import { SessionTransitions } from './session-transitions';

/** Causes worth another attempt; a missing or refused image, a timeout or a cancel are not. */
const RETRYABLE: readonly ContainerExitCause[] = ['exited', 'start_failed'];
const MAX_LOST_ATTEMPTS = 3;

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
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  async started(event: EventOf<'container.started'>): Promise<void> {
    const { sessionId, containerId, startedAt, attempt } = event.data;
    await this.transitions.move({
      sessionId,
      attempt,
      from: ['starting'],
      to: 'running',
      reason: `container ${containerId.slice(0, 12)} started`,
      changes: { containerId, startedAt: new Date(startedAt) },
    });
  }

  async exited(event: EventOf<'container.exited'>): Promise<void> {
    const exit = event.data;
    const finishedAt = new Date(event.occurredAt);
    await this.store.transaction(async (tx) => {
      const session = await tx.getSession(exit.sessionId);
      if (!session || session.attempt !== exit.attempt) return null;
      if (session.runnerId !== exit.runnerId) {
        // Only runners may publish container.exited (the bus's permissions), but one runner must not
        // end another's session: a report from any runner but the claim's holder changes nothing.
        this.logger.warn(
          { sessionId: exit.sessionId, attempt: exit.attempt, eventId: event.id, runnerId: exit.runnerId, claimedBy: session.runnerId },
          'container.exited refused: it comes from a runner that does not hold the session',
        );
        return null;
      }
      // A cancel was accepted: whatever the attempt's end, it is not run again, and unless it completed it ends cancelled.
      const cancelRequested = session.cancelRequestedAt !== null;
      const outcome = finalStatusOf(exit, cancelRequested);
      // A lost container is the infrastructure's failure, not the agent's: run it again without
      // spending the session's own retries (up to MAX_LOST_ATTEMPTS times). Both budgets are per run:
      // only the attempts since the session was last re-run count.
      const lostBefore = session.attempts.filter(
        (a) => a.attempt > session.attemptsBeforeRun && a.reason?.startsWith('container_lost'),
      ).length;
      const failuresBefore = exit.attempt - 1 - session.attemptsBeforeRun - lostBefore;
      const retry =
        cancelRequested ? false
        : exit.cause === 'container_lost'
          ? lostBefore < MAX_LOST_ATTEMPTS
          : outcome.status === 'failed' && RETRYABLE.includes(exit.cause) && failuresBefore < session.retries;
      const delayMs =
        exit.cause === 'container_lost' ? 0 : retryBackoffMs(this.settings.retryBackoffMs, failuresBefore + 1);
      const record = await this.transitions.moveWithin(tx, {
        sessionId: exit.sessionId,
        attempt: exit.attempt,
        from: ['starting', 'running'],
        to: retry ? 'ready' : outcome.status,
        reason: !retry
          ? outcome.reason
          : exit.cause === 'container_lost'
            ? `attempt ${exit.attempt} ${outcome.reason}; running it again`
            : `attempt ${exit.attempt} ${outcome.reason}; retry ${failuresBefore + 1} of ${session.retries} in ${delayMs} ms`,
        changes: {
          exitCode: exit.exitCode,
          oomKilled: exit.oomKilled,
          ...(exit.containerId ? { containerId: exit.containerId } : {}),
          output: exit.output,
          changes: exit.changes ?? null,
          egressTraffic: exit.egress ?? null,
          log: { bytes: exit.logBytes, droppedBytes: exit.logDroppedBytes },
          ...(retry ? { readyAt: new Date(Date.now() + delayMs), dispatchedAt: null } : { finishedAt }),
        },
      });
      if (record) {
        await tx.recordAttempt({
          sessionId: exit.sessionId,
          attempt: exit.attempt,
          status: outcome.status,
          reason: outcome.reason,
          exitCode: exit.exitCode,
          containerId: exit.containerId,
          runnerId: exit.runnerId,
          finishedAt,
        });
      }
      return record;
    });
  }
}

/** The status and reason a container's end gives its session. */
export function finalStatusOf(
  exit: EventOf<'container.exited'>['data'],
  cancelRequested = false,
): { status: SessionStatus; reason: string } {
  const outcome = statusOfExit(exit);
  if (cancelRequested && outcome.status !== 'completed' && outcome.status !== 'cancelled') {
    return { status: 'cancelled', reason: `cancelled on request (the attempt ended: ${outcome.reason})` };
  }
  return outcome;
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
