import { Inject, Injectable } from '@nestjs/common';
import { EventPayload, InvalidEventError } from '@hub/contracts';
import { EventPublisher } from '@hub/messaging';
import { HubLogger } from '@hub/config';
import { RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { isPayloadTooLarge, retry } from '../util/retry';
import { SessionLedger } from './session-ledger';

export type ExitReport = Omit<EventPayload<'container.exited'>, 'sessionId' | 'attempt' | 'runnerId' | 'durationMs'>;

/**
 * How long a fact the registry must learn (a container started or exited) is retried while NATS is
 * unreachable. Past it the runner gives up; reconciliation reports the session lost later, so it
 * still ends rather than stay running.
 */
const REPORT_PATIENCE_MS = 10 * 60_000;

/** Tells the registry what happened to a session's container: `container.started` and `container.exited`. */
@Injectable()
export class ExitReporter {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly ledger: SessionLedger,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
  ) {}

  async started(sessionId: string, attempt: number, containerId: string, log: HubLogger): Promise<void> {
    await this.send(log, 'reporting the container started', () =>
      this.publisher.publish(
        'container.started',
        { sessionId, attempt, containerId, runnerId: this.settings.runnerId, startedAt: new Date().toISOString() },
        `container.started:${sessionId}:${attempt}`,
      ),
    );
  }

  async exited(sessionId: string, attempt: number, report: ExitReport, durationMs: number, log: HubLogger): Promise<void> {
    await this.send(log, 'reporting the container exited', () =>
      this.publisher.publish(
        'container.exited',
        { ...report, sessionId, attempt, runnerId: this.settings.runnerId, durationMs },
        `container.exited:${sessionId}:${attempt}`,
      ),
    );
    this.ledger.recordReported(sessionId, attempt);
  }

  private send(log: HubLogger, what: string, publish: () => Promise<void>): Promise<void> {
    return retry(publish, {
      what,
      log,
      patienceMs: REPORT_PATIENCE_MS,
      isPermanent: (error) => isPayloadTooLarge(error) || error instanceof InvalidEventError,
    });
  }
}

/** A report for an attempt that never ran a container (or whose container is gone). */
export function exitWithoutContainer(cause: ExitReport['cause'], detail: string, containerId: string | null = null): ExitReport {
  return {
    cause,
    exitCode: null,
    oomKilled: false,
    containerId,
    // The contract caps detail at 2000 characters; a longer one would never be published.
    detail: detail.slice(0, 2000),
    output: { files: 0, bytes: 0, skipped: 0 },
    logBytes: 0,
    logDroppedBytes: 0,
    changes: null,
    usage: null,
    rateLimit: null,
  };
}
