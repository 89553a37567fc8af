import { HubNotification, WebhookFormat } from '@hub/contracts';
import { Notification, NotificationSource } from './notification-of';

/**
 * The body a webhook receives, as it is stored, signed and sent: `hub`, the notification with the
 * whole event (`{ id, kind, occurredAt, event, summary }`); `slack`, `{ text }` with the summary.
 */
export function notificationBody(format: WebhookFormat, deliveryId: string, notification: Notification, event: NotificationSource): string {
  if (format === 'slack') return JSON.stringify({ text: slackEscaped(notification.summary) });
  const body: HubNotification = {
    id: deliveryId,
    kind: notification.kind,
    occurredAt: event.occurredAt,
    event: { id: event.id, subject: event.subject, occurredAt: event.occurredAt, data: event.data },
    summary: notification.summary,
  };
  return JSON.stringify(body);
}

/**
 * Slack reads `<…>` as a link or a mention (`<!channel>`) and `&` as the start of an entity: a
 * reason quoting what a user named must not ping a channel, so those three are escaped, as Slack asks.
 */
export function slackEscaped(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
