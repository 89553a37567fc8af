import { randomUUID } from 'node:crypto';
import { EventEnvelope, EventPayload, EventSubject, validateEventPayload } from '@hub/contracts';

/** Builds a validated event envelope, ready for the outbox. */
export function newEvent<S extends EventSubject>(subject: S, data: EventPayload<S>): EventEnvelope<S> {
  return { id: randomUUID(), subject, occurredAt: new Date().toISOString(), data: validateEventPayload(subject, data) };
}
