import { z } from 'zod';
import { EVENT_CATALOG, EventEnvelope, EventPayload, EventSubject, isEventSubject } from './event-catalog';

export class InvalidEventError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: string,
  ) {
    super(`invalid ${subject} event: ${problems}`);
    this.name = 'InvalidEventError';
  }
}

const EnvelopeSchema = z.object({
  id: z.string().min(1).max(128),
  subject: z.string(),
  occurredAt: z.iso.datetime({ offset: true }),
  data: z.unknown(),
});

/** Checks a payload against its subject's schema; throws InvalidEventError naming what is wrong. */
export function validateEventPayload<S extends EventSubject>(subject: S, data: unknown): EventPayload<S> {
  const result = EVENT_CATALOG[subject].schema.safeParse(data);
  if (!result.success) throw new InvalidEventError(subject, z.prettifyError(result.error));
  return result.data as EventPayload<S>;
}

/** Parses and validates an event as it arrives from the wire. */
export function parseEventEnvelope(subject: string, raw: unknown): EventEnvelope {
  if (!isEventSubject(subject)) throw new InvalidEventError(subject, 'unknown subject');
  const envelope = EnvelopeSchema.safeParse(raw);
  if (!envelope.success) throw new InvalidEventError(subject, z.prettifyError(envelope.error));
  if (envelope.data.subject !== subject) {
    throw new InvalidEventError(subject, `envelope names subject ${envelope.data.subject}`);
  }
  return { ...envelope.data, subject, data: validateEventPayload(subject, envelope.data.data) } as EventEnvelope;
}
