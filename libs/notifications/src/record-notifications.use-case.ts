import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DeliverNotifications } from './deliver-notifications';
import { notificationBody } from './notification-body';
import { NotificationDeliveries } from './notification-deliveries';
import { NotificationSource, notificationOf } from './notification-of';
import { NOTIFICATION_SETTINGS, NotificationSettings } from './notifications.tokens';

/**
 * An event has arrived: records one delivery for each webhook that wants its kind (the body made
 * now, once), then has them sent. The same event arriving again records nothing more (one delivery
 * per webhook and event), so the consumer acks it only once this has resolved.
 */
@Injectable()
export class RecordNotifications {
  constructor(
    private readonly deliveries: NotificationDeliveries,
    private readonly deliver: DeliverNotifications,
    @Inject(NOTIFICATION_SETTINGS) private readonly settings: NotificationSettings,
  ) {}

  async execute(event: NotificationSource): Promise<void> {
    const notification = notificationOf(event);
    if (!notification) return;
    const webhooks = this.settings.webhooks.filter((webhook) => webhook.events.includes(notification.kind));
    const recorded = await this.deliveries.record(
      webhooks.map((webhook) => {
        const id = randomUUID();
        return {
          id,
          webhook: webhook.name,
          eventId: event.id,
          kind: notification.kind,
          subject: event.subject,
          payload: notificationBody(webhook.format, id, notification, event),
        };
      }),
    );
    if (recorded > 0) this.deliver.kick();
  }
}
