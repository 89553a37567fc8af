import { z } from 'zod';
import { OrchestrationIdSchema, SessionIdSchema } from '../sessions/session.schemas';
import { EVENT_SUBJECTS, EventSubject, isEventSubject } from './event-catalog';

/**
 * The id of an event in `GET /api/v1/events`: its sequence in the JetStream stream (HUB_EVENTS),
 * digits only. A client resumes after the last one it received (`Last-Event-ID`, or `?after=`).
 */
export const EventSequenceSchema = z
  .string()
  .regex(/^\d{1,15}$/, 'must be the id of an event (its stream sequence number)')
  .transform(Number);

/** `type=session.status-changed,orchestration.finished`: one or several subjects of the catalog. */
const EventSubjectListSchema = z
  .string()
  .max(1000)
  .transform((value, ctx) => {
    const subjects = value.split(',').map((subject) => subject.trim());
    const unknown = subjects.filter((subject) => !isEventSubject(subject));
    if (!unknown.length) return subjects as EventSubject[];
    const named = unknown.map((subject) => `"${subject}"`).join(', ');
    ctx.issues.push({ code: 'custom', message: `not an event subject: ${named} (known: ${EVENT_SUBJECTS.join(', ')})`, input: value });
    return z.NEVER;
  });

/** What `GET /api/v1/events` takes: filters (all must match) and where to resume. */
export const LiveEventsQuerySchema = z.strictObject({
  /** Events of this orchestration, those without an orchestrationId (deps.*, container.*) through their session. */
  orchestrationId: OrchestrationIdSchema.optional(),
  sessionId: SessionIdSchema.optional(),
  type: EventSubjectListSchema.optional(),
  /** For clients that cannot set Last-Event-ID: deliver from the event after this one. */
  after: EventSequenceSchema.optional(),
});
export type LiveEventsQuery = z.infer<typeof LiveEventsQuerySchema>;
