import { AnyEvent, EVENT_CATALOG, EventSubject } from '@hub/contracts';

/** What a client of `GET /api/v1/events` asked for; every filter given must match. */
export interface LiveEventsFilter {
  orchestrationId?: string;
  sessionId?: string;
  types?: readonly EventSubject[];
}

/** Whether events of `subject` name their orchestration (deps.*, container.* and cancel requests name only their session). */
const namesItsOrchestration = (subject: EventSubject) => 'orchestrationId' in EVENT_CATALOG[subject].schema.shape;

/**
 * Which events a client gets. An event that does not name its orchestration belongs to one through
 * its session: the filter is given the orchestration's sessions when the client connects, and learns
 * those created later from session.created, so it must be shown every event read, not only those
 * it lets through.
 */
export class EventFilter {
  private readonly sessionsOfOrchestration: Set<string>;

  constructor(
    private readonly filter: LiveEventsFilter,
    sessionsOfOrchestration: Iterable<string> = [],
  ) {
    this.sessionsOfOrchestration = new Set(sessionsOfOrchestration);
  }

  accepts(event: AnyEvent): boolean {
    const data: { sessionId?: string; orchestrationId?: string } = event.data;
    if (event.subject === 'session.created' && data.orchestrationId === this.filter.orchestrationId) {
      this.sessionsOfOrchestration.add(event.data.sessionId);
    }
    const { types, sessionId, orchestrationId } = this.filter;
    if (types && !types.includes(event.subject)) return false;
    if (sessionId && data.sessionId !== sessionId) return false;
    if (!orchestrationId) return true;
    if (data.orchestrationId !== undefined) return data.orchestrationId === orchestrationId;
    return data.sessionId !== undefined && this.sessionsOfOrchestration.has(data.sessionId);
  }

  /**
   * The one subject the server may filter the stream on, if any: a single type asked for, unless
   * an orchestration's sessions must be learnt from session.created meanwhile. (nats-server 2.9
   * filters a consumer on one subject at most; several types are filtered here.)
   */
  serverSubject(): EventSubject | undefined {
    const { types, orchestrationId } = this.filter;
    if (types?.length !== 1) return undefined;
    return orchestrationId && !namesItsOrchestration(types[0]) ? undefined : types[0];
  }
}
