import { DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { DeliverNotifications } from './deliver-notifications';
import { NotificationConsumers } from './notification-consumers';
import { NotificationDeliveries } from './notification-deliveries';
import { NOTIFICATION_SETTINGS, NotificationSettings } from './notifications.tokens';
import { RecordNotifications } from './record-notifications.use-case';

/**
 * Outbound notifications, in the registry's process: deliveries recorded as their events arrive
 * (RecordNotifications), sent and retried by a periodic task (DeliverNotifications) that starts and
 * stops with the application, and listed (NotificationDeliveries). Needs the service's NATS
 * connection (MessagingModule) for its consumers.
 */
@Module({})
export class NotificationsModule {
  static forRoot(dataSource: DataSource, settings: NotificationSettings, logger: HubLogger): DynamicModule {
    return {
      module: NotificationsModule,
      providers: [
        { provide: DataSource, useValue: dataSource },
        { provide: NOTIFICATION_SETTINGS, useValue: settings },
        { provide: HUB_LOGGER, useValue: logger },
        NotificationConsumers,
        NotificationDeliveries,
        DeliverNotifications,
        RecordNotifications,
      ],
      exports: [RecordNotifications, NotificationDeliveries, DeliverNotifications],
    };
  }
}
