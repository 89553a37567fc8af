import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JetStreamClient, NatsConnection } from 'nats';
import { EventEnvelope, EventPayload, EventSubject, validateEventPayload } from '@hub/contracts';
import { encodeJson, NATS_CONNECTION } from './nats-connection';

/** The EventBus port: publishes a validated event to JetStream, its id as the message id. */
@Injectable()
export class EventPublisher {
  private readonly js: JetStreamClient;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection) {
    this.js = nc.jetstream();
  }

  /**
   * Publishes one event. Pass a deterministic `eventId` when the same fact may be published twice
   * (a retry after a crash): JetStream drops the duplicate.
   */
  async publish<S extends EventSubject>(subject: S, data: EventPayload<S>, eventId: string = randomUUID()) {
    const envelope: EventEnvelope<S> = {
      id: eventId,
      subject,
      occurredAt: new Date().toISOString(),
      data: validateEventPayload(subject, data),
    };
    await this.publishEnvelope(envelope);
  }

  /** Publishes an envelope built elsewhere (the registry's outbox). */
  async publishEnvelope(envelope: EventEnvelope): Promise<void> {
    validateEventPayload(envelope.subject, envelope.data);
    await this.js.publish(envelope.subject, encodeJson(envelope), { msgID: envelope.id });
  }
}
