import { z } from 'zod';
import { CommaListSchema, PageQueryFields } from '../sessions/session.schemas';

/**
 * Outbound notifications: webhooks the operator configures (HUB_WEBHOOKS or HUB_WEBHOOKS_FILE, never an
 * API client), each told of some of Hub's events, signed, retried, and every delivery recorded.
 */

/** What a webhook may be told of: Hub's events as a person would name them. */
export const NOTIFICATION_KINDS = [
  'session.completed',
  /** failed or timed_out */
  'session.failed',
  'session.cancelled',
  'session.skipped',
  'orchestration.finished',
  'budget.threshold',
  'session.rate-limited',
] as const;
export const NotificationKindSchema = z.enum(NOTIFICATION_KINDS, { message: `must be one of ${NOTIFICATION_KINDS.join(', ')}` });
export type NotificationKind = z.infer<typeof NotificationKindSchema>;

/** `hub`: the JSON body below (HubNotificationSchema); `slack`: a Slack-compatible `{ text }`. */
export const WEBHOOK_FORMATS = ['hub', 'slack'] as const;
export const WebhookFormatSchema = z.enum(WEBHOOK_FORMATS, { message: `must be one of ${WEBHOOK_FORMATS.join(', ')}` });
export type WebhookFormat = z.infer<typeof WebhookFormatSchema>;

export const MIN_WEBHOOK_SECRET_LENGTH = 16;
export const MAX_WEBHOOKS = 50;

export const WebhookNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit');

/**
 * One webhook. Its URL is not checked against private or loopback ranges: only the operator sets it
 * (docs/security.md). Validation messages never quote a value, so none can carry the secret.
 */
export const WebhookSchema = z.strictObject({
  name: WebhookNameSchema,
  url: z
    .url({ protocol: /^https?$/, error: (issue) => (issue.code === 'invalid_format' ? 'must be an http:// or https:// URL' : undefined) })
    .max(2048),
  secret: z
    .string()
    .min(MIN_WEBHOOK_SECRET_LENGTH, `must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`)
    .max(1024, 'must be at most 1024 characters'),
  /** Default: every kind. */
  events: z
    .array(NotificationKindSchema)
    .min(1, 'must name at least one kind (leave it out for every kind)')
    .default([...NOTIFICATION_KINDS])
    .transform((kinds) => [...new Set(kinds)]),
  format: WebhookFormatSchema.default('hub'),
});
export type Webhook = z.infer<typeof WebhookSchema>;

/** The whole configuration: a list of webhooks with distinct names. */
export const WebhooksConfigSchema = z
  .array(WebhookSchema)
  .max(MAX_WEBHOOKS, `must list at most ${MAX_WEBHOOKS} webhooks`)
  .superRefine((webhooks, ctx) => {
    const seen = new Set<string>();
    webhooks.forEach(({ name }, index) => {
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `"${name}" names another webhook too` });
      seen.add(name);
    });
  });

/** The headers every delivery carries (besides Content-Type and User-Agent). */
export const WEBHOOK_HEADERS = {
  /** The delivery's id: the same on every attempt, so a receiver can drop a repeat. */
  delivery: 'Hub-Delivery',
  /** Its notification kind. */
  event: 'Hub-Event',
  /** Unix seconds when this attempt was signed. */
  timestamp: 'Hub-Timestamp',
  /** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the webhook's secret>`. */
  signature: 'Hub-Signature-256',
} as const;

/** The `hub` format's body. */
export const HubNotificationSchema = z.object({
  /** The delivery's id (the Hub-Delivery header). */
  id: z.uuid(),
  kind: NotificationKindSchema,
  occurredAt: z.iso.datetime({ offset: true }),
  /** The Hub event it is about, its envelope as docs/events.md describes it. */
  event: z.object({ id: z.string(), subject: z.string(), occurredAt: z.string(), data: z.record(z.string(), z.unknown()) }),
  /** One sentence for people. */
  summary: z.string(),
});
export type HubNotification = z.infer<typeof HubNotificationSchema>;

/** The `slack` format's body: what a Slack incoming webhook takes. */
export const SlackNotificationSchema = z.object({ text: z.string() });

// ---- deliveries, as the API shows them ------------------------------------------------------------

export const NOTIFICATION_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export const NotificationDeliveryStatusSchema = z.enum(NOTIFICATION_DELIVERY_STATUSES);
export type NotificationDeliveryStatus = z.infer<typeof NotificationDeliveryStatusSchema>;

/** At most this many characters of an attempt's error are kept. */
export const MAX_DELIVERY_ERROR_LENGTH = 400;

/** One notification to one webhook: what became of it. Neither its body nor anything of the webhook but its name. */
export const NotificationDeliverySchema = z.object({
  id: z.uuid(),
  webhook: z.string(),
  eventId: z.string(),
  kind: NotificationKindSchema,
  /** The subject of the Hub event it is about. */
  subject: z.string(),
  status: NotificationDeliveryStatusSchema,
  attempts: z.number().int().nonnegative(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().max(MAX_DELIVERY_ERROR_LENGTH).nullable(),
  /** When it is tried next (pending), else null. */
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type NotificationDelivery = z.infer<typeof NotificationDeliverySchema>;

export const NotificationDeliveryPageSchema = z.object({
  items: z.array(NotificationDeliverySchema),
  nextCursor: z.string().nullable(),
});
export type NotificationDeliveryPage = z.infer<typeof NotificationDeliveryPageSchema>;

/** `GET /api/v1/notifications/deliveries`: newest first; `status` and `kind` take one or several, comma-separated. */
export const ListNotificationDeliveriesQuerySchema = z.strictObject({
  status: CommaListSchema.pipe(z.array(NotificationDeliveryStatusSchema).min(1).max(NOTIFICATION_DELIVERY_STATUSES.length)).optional(),
  webhook: WebhookNameSchema.optional(),
  kind: CommaListSchema.pipe(z.array(NotificationKindSchema).min(1).max(NOTIFICATION_KINDS.length)).optional(),
  ...PageQueryFields,
});
export type ListNotificationDeliveriesQuery = z.infer<typeof ListNotificationDeliveriesQuerySchema>;
