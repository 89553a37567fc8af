import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { LiveEventsQuery, LiveEventsQuerySchema } from '@hub/contracts';
import { API_PREFIX, LiveEvents, ZodValidationPipe } from '@hub/gateway-http';

/**
 * Hub's events, live, as server-sent events. The route hands the response to LiveEvents with
 * `@Res()` (Nest sends nothing itself) rather than Nest's `@Sse()`: @Sse writes whatever its
 * Observable emits without waiting for the socket to drain (an unbounded buffer for a slow client),
 * sends its headers before anything could be refused, and ties the stream's end to the Observable,
 * not to the client leaving. Here a refusal (400, 404, 503) is answered in JSON before the stream
 * begins, and LiveEvents writes each event only after the previous one drained.
 */
@Controller(`${API_PREFIX}/events`)
export class EventsController {
  constructor(private readonly events: LiveEvents) {}

  /** `?orchestrationId=&sessionId=&type=a,b&after=<id>`; `Last-Event-ID` resumes after that event. */
  @Get()
  stream(
    @Query(new ZodValidationPipe(LiveEventsQuerySchema)) query: LiveEventsQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    return this.events.serve(query, lastEventId, res);
  }
}
