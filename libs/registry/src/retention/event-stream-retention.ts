import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { EVENT_STREAM } from '@hub/contracts';
import { ensureEventStream, NATS_CONNECTION } from '@hub/messaging';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';

/**
 * How long the event stream keeps an event (HUB_EVENTS_MAX_AGE_DAYS, the stream's max_age): set as
 * the registry starts, on a new stream or one that exists, before the registry takes any work. The
 * registry owns the setting, as it publishes most events; other services leave the stream's age as it is.
 */
@Injectable()
export class EventStreamRetention implements OnApplicationBootstrap {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const maxAgeDays = this.settings.retention?.eventsMaxAgeDays;
    if (maxAgeDays === undefined) return;
    await ensureEventStream(await this.nc.jetstreamManager(), { maxAgeDays });
    this.logger.info({ stream: EVENT_STREAM.name, maxAgeDays: maxAgeDays || 'forever' }, 'event stream retention set');
  }
}
