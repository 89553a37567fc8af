import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger, PeriodicTask } from '@hub/config';
import { Webhook, WEBHOOK_HEADERS } from '@hub/contracts';
import { afterFailedAttempt, FIRST_RETRY_DELAY_MS } from './delivery-backoff';
import { AttemptOutcome, DueDelivery, NotificationDeliveries } from './notification-deliveries';
import { NOTIFICATION_SETTINGS, NotificationSettings } from './notifications.tokens';
import { postWebhook } from './post-webhook';
import { webhookSignature } from './webhook-signature';

/** Deliveries sent at once, in one pass. */
const BATCH_SIZE = 20;
const DEFAULT_POLL_INTERVAL_MS = 1_000;
const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;
/** A claimed delivery is nobody else's for this long: well past an attempt's time limit. */
const LEASE_MS = 60_000;
/** Of a receiver's answer, this much is kept in the delivery's last error. */
const ANSWER_QUOTED = 200;

/**
 * Sends the deliveries that are due: each POSTed, signed, to its webhook; a 2xx answer delivers it,
 * anything else is tried again after a backoff (1 s, 2 s, 4 s … at most 10 min) until it has had
 * HUB_WEBHOOK_MAX_ATTEMPTS attempts, then it is `failed`. Every attempt is written to its row and
 * makes one log line, which names the webhook, never its URL or secret.
 */
@Injectable()
export class DeliverNotifications extends PeriodicTask {
  private readonly webhooks: Map<string, Webhook>;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly deliveries: NotificationDeliveries,
    @Inject(NOTIFICATION_SETTINGS) private readonly settings: NotificationSettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {
    super({ everyMs: settings.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, atStart: true });
    this.webhooks = new Map(settings.webhooks.map((webhook) => [webhook.name, webhook]));
  }

  /** One pass, coalesced with any under way (kick). */
  runOnce(): void {
    this.kick();
  }

  /** Sends what is due now; kicks while a pass runs make one more pass after it. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error) => this.logger.warn({ err: (error as Error).message }, 'notification delivery pass failed; will retry'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves once the pass under way (and any it asked for) is over. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No new pass; the one under way (an attempt lasts at most its time limit) records what it sent before the database closes. */
  override async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    super.onApplicationShutdown();
    await this.settled();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const due = await this.deliveries.claimDue(BATCH_SIZE, LEASE_MS);
      const attempts = await Promise.allSettled(due.map((delivery) => this.attempt(delivery)));
      // An attempt whose outcome could not be written is due again once its lease is over.
      const unrecorded = attempts.find((attempt): attempt is PromiseRejectedResult => attempt.status === 'rejected');
      if (unrecorded) throw unrecorded.reason;
      if (due.length < BATCH_SIZE || this.stopped) return;
    }
  }

  private async attempt(delivery: DueDelivery): Promise<void> {
    const attempt = delivery.attempts + 1;
    const webhook = this.webhooks.get(delivery.webhook);
    const outcome = webhook
      ? await this.send(webhook, delivery, attempt)
      : ({ status: 'failed', statusCode: null, error: `webhook "${delivery.webhook}" is no longer configured` } as const);
    await this.deliveries.recordAttempt(delivery.id, outcome);
    this.report(delivery, attempt, outcome);
  }

  private async send(webhook: Webhook, delivery: DueDelivery, attempt: number): Promise<AttemptOutcome> {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': 'Hub-Webhooks',
      [WEBHOOK_HEADERS.delivery]: delivery.id,
      [WEBHOOK_HEADERS.event]: delivery.kind,
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: webhookSignature(webhook.secret, timestamp, delivery.payload),
    };
    let failure: { statusCode: number | null; error: string };
    try {
      const answer = await postWebhook(webhook.url, headers, delivery.payload, this.settings.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS);
      if (answer.statusCode >= 200 && answer.statusCode < 300) return { status: 'delivered', statusCode: answer.statusCode };
      const quoted = answer.body.trim().slice(0, ANSWER_QUOTED);
      failure = { statusCode: answer.statusCode, error: `answered ${answer.statusCode}${quoted ? `: ${quoted}` : ''}` };
    } catch (error) {
      failure = { statusCode: null, error: (error as Error).message || String(error) };
    }
    const error = withoutCredentials(failure.error, webhook);
    const next = afterFailedAttempt(attempt, this.settings.maxAttempts, this.settings.firstRetryDelayMs ?? FIRST_RETRY_DELAY_MS);
    return next.status === 'failed' ? { ...failure, error, status: 'failed' } : { ...failure, error, ...next };
  }

  /** One line per attempt: which webhook, notification and attempt, and how it went. */
  private report(delivery: DueDelivery, attempt: number, outcome: AttemptOutcome): void {
    const line = { webhook: delivery.webhook, kind: delivery.kind, eventId: delivery.eventId, deliveryId: delivery.id, attempt };
    if (outcome.status === 'delivered') {
      this.logger.info({ ...line, statusCode: outcome.statusCode }, 'webhook notification delivered');
    } else if (outcome.status === 'pending') {
      this.logger.warn(
        { ...line, statusCode: outcome.statusCode, err: outcome.error, retryInMs: outcome.retryInMs },
        'webhook notification not delivered; will retry',
      );
    } else {
      this.logger.error({ ...line, statusCode: outcome.statusCode, err: outcome.error }, 'webhook notification not delivered; giving up');
    }
  }
}

/** An error as it may be kept and logged: the webhook's secret and its URL's credentials replaced, should they appear. */
function withoutCredentials(text: string, webhook: Webhook): string {
  const { username, password } = new URL(webhook.url);
  const hidden = [webhook.secret, password, decoded(password), username, decoded(username)].filter((s) => s.length >= 3);
  return hidden.reduce((masked, value) => masked.split(value).join('[redacted]'), text);
}

function decoded(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}
