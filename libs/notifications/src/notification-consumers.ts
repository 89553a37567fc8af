import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { DEFAULT_ACK_WAIT_MS, durableName, ensureDurableConsumer, ensureEventStream, NATS_CONNECTION } from '@hub/messaging';
import { NOTIFICATION_SOURCES } from './notification-of';

/** The service whose durables read the notification sources (the event catalog's `session-registry (notifications)`). */
export const NOTIFICATIONS_SERVICE = 'session-registry';

/**
 * The registry reads the notification sources through durables of its own, bound by its transport
 * (JetStreamServer) like any event it handles. That transport makes a missing durable from the
 * stream's first event; these are made first, from the events published from now on, so that a
 * registry upgraded onto a long history does not notify every webhook of all of it. Runs before the
 * transport binds (Nest initialises modules before a microservice listens); an existing durable
 * keeps its position.
 */
@Injectable()
export class NotificationConsumers implements OnModuleInit {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async onModuleInit(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await ensureEventStream(jsm);
    for (const subject of NOTIFICATION_SOURCES) {
      await ensureDurableConsumer(jsm, durableName(NOTIFICATIONS_SERVICE, subject), subject, DEFAULT_ACK_WAIT_MS, 'new');
    }
  }
}
