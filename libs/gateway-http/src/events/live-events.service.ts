import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { badRequest, EventSequenceSchema, LiveEventsQuery, unavailable } from '@hub/contracts';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { HubApi } from '@hub/hub-api';
import { EventReader, EventReaderStart, NATS_CONNECTION } from '@hub/messaging';
import { EventFilter } from './event-filter';
import { TenantVisibility } from './tenant-visibility';
import { SseResponse, SseWriter } from './sse-writer';

export interface LiveEventsOptions {
  /** A comment goes out this often on a quiet stream. Default 15 s. */
  heartbeatMs?: number;
}
export const LIVE_EVENTS_OPTIONS = Symbol('LIVE_EVENTS_OPTIONS');

const DEFAULT_HEARTBEAT_MS = 15_000;
/** A replay from an orchestration's (session's) creation starts this much earlier: clocks of the registry and NATS may differ a little. */
const REPLAY_MARGIN_MS = 5_000;

/**
 * Where a client resumes: after `Last-Event-ID` (what an EventSource sends when it reconnects, to
 * the URL it first used, so it wins over that URL's `?after=`), else after `?after=`.
 */
export function resumeAfter(after: number | undefined, lastEventId: string | undefined): number | undefined {
  if (lastEventId === undefined) return after;
  const parsed = EventSequenceSchema.safeParse(lastEventId.trim());
  if (parsed.success) return parsed.data;
  throw badRequest('Last-Event-ID: must be the id of an event (its stream sequence number)', [
    { path: 'Last-Event-ID', message: 'must be the id of an event (its stream sequence number)' },
  ]);
}

/**
 * `GET /api/v1/events`: Hub's events as server-sent events, each with its stream sequence as id.
 * Where it starts: after the event a client resumes from; else, for an orchestration (a session),
 * from its creation, so a client that connects just after creating it misses nothing; else with the
 * events published from now on. What it reads goes through EventFilter to SseWriter, one event at a
 * time, at the client's pace (EventReader pulls a bounded batch). The JetStream consumer is deleted
 * as soon as the client goes, and every stream is ended when the gateway stops (its HTTP server
 * would otherwise wait for them).
 */
@Injectable()
export class LiveEvents implements OnModuleDestroy {
  private readonly streams = new Set<SseWriter>();
  private readonly heartbeatMs: number;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly hub: HubApi,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
    @Inject(LIVE_EVENTS_OPTIONS) options: LiveEventsOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  /**
   * Serves one client until it goes (or the gateway stops). A refusal (bad Last-Event-ID, unknown
   * orchestration or session, NATS down) is thrown before anything is written, to be answered in JSON.
   */
  async serve(query: LiveEventsQuery, lastEventId: string | undefined, res: SseResponse): Promise<void> {
    const filter = { orchestrationId: query.orchestrationId, sessionId: query.sessionId, types: query.type };
    const after = resumeAfter(query.after, lastEventId);
    const [start, sessions] = await Promise.all([this.startOf(query, after), this.sessionsOf(query.orchestrationId)]);
    const eventFilter = new EventFilter(filter, sessions);
    // Filtered by one orchestration or session, the stream is of one the caller was shown; else each event is checked.
    const visibility = query.orchestrationId || query.sessionId ? null : new TenantVisibility(this.hub);
    const reader = await EventReader.open(this.nc, {
      start,
      subject: eventFilter.serverSubject(),
      onInvalid: (seq, error) => this.logger.warn({ seq, problem: error.message }, 'live events: skipped a malformed event'),
    }).catch((error: Error) => {
      throw unavailable(`cannot read Hub's events from NATS: ${error.message}`);
    });
    const writer = new SseWriter(res, this.heartbeatMs);
    this.streams.add(writer);
    void writer.closed.then(() => reader.close());
    this.logger.info({ ...filter, start }, 'live events: client connected');
    let sent = 0;
    try {
      for await (const { seq, raw, event } of reader.events()) {
        if (!eventFilter.accepts(event)) continue;
        if (visibility && !(await visibility.accepts(event))) continue;
        if (!(await writer.send({ id: seq, event: event.subject, data: raw }))) break;
        sent++;
      }
    } catch (error) {
      this.logger.warn({ problem: (error as Error).message }, 'live events: reading the stream failed; the client may resume');
    } finally {
      this.streams.delete(writer);
      writer.end();
      await reader.close();
      this.logger.info({ ...filter, sent }, 'live events: client gone');
    }
  }

  onModuleDestroy(): void {
    for (const writer of this.streams) writer.end();
  }

  private async startOf(query: LiveEventsQuery, after: number | undefined): Promise<EventReaderStart> {
    // Read even when resuming: an unknown orchestration or session is a 404.
    const created = query.orchestrationId
      ? (await this.hub.getOrchestration(query.orchestrationId, { limit: 1 })).createdAt
      : query.sessionId
        ? (await this.hub.getSession(query.sessionId)).createdAt
        : undefined;
    if (after !== undefined) return { after };
    if (created === undefined) return 'new';
    return { since: new Date(Date.parse(created) - REPLAY_MARGIN_MS) };
  }

  /** Every session of the orchestration so far (all pages): events of deps.* and container.* name only their session. */
  private async sessionsOf(orchestrationId: string | undefined): Promise<string[]> {
    if (!orchestrationId) return [];
    return (await this.hub.collectSessions({ orchestrationId }, Number.POSITIVE_INFINITY)).map((session) => session.id);
  }
}
