import type { Webhook } from '@hub/contracts';

export const NOTIFICATION_SETTINGS = Symbol('NOTIFICATION_SETTINGS');

export interface NotificationSettings {
  /** The operator's webhooks (HUB_WEBHOOKS or HUB_WEBHOOKS_FILE, loaded by loadWebhooks). */
  webhooks: Webhook[];
  /** Attempts per delivery before it is `failed` (HUB_WEBHOOK_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** The wait before the first retry, doubled for each next one (at most 10 min). Default 1 s. */
  firstRetryDelayMs?: number;
  /** How often due deliveries are looked for (each new one is sent at once). Default 1 s. */
  pollIntervalMs?: number;
  /** How long one attempt may take, connection to answer. Default 10 s. */
  attemptTimeoutMs?: number;
}
