import { setTimeout as sleep } from 'node:timers/promises';
import { type AnyEvent, type EventSubject, HubError, isEventSubject, parseEventEnvelope, unavailable } from '@hub/contracts';
import { HttpProblem } from './http-problem';
import { serverSentEvents } from './server-sent-events';

/** Which of Hub's events to follow (`GET /api/v1/events`'s filters): every filter given must match. */
export interface HubEventFilter {
  orchestrationId?: string;
  sessionId?: string;
  types?: readonly EventSubject[];
}

/** How often a dropped connection is made again, and for how long. */
export interface ReconnectPolicy {
  /** The pause before the first attempt; it doubles with each failed one, up to maxDelayMs. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Connections that may fail in a row (refused as unavailable, or dropped before the stream began) before the follow gives up. */
  maxFailures: number;
  /** A stream silent this long (no event, no heartbeat comment) is taken as dropped. */
  idleMs: number;
}

/** 0.5 s, 1 s, 2 s … 10 s between attempts, about three minutes in all; the gateway sends a heartbeat every 15 s. */
const DEFAULT_RECONNECT: ReconnectPolicy = { firstDelayMs: 500, maxDelayMs: 10_000, maxFailures: 20, idleMs: 45_000 };

export interface HubEventOptions {
  /** Start after this event (an event's `id`); without it, where the filter starts (an orchestration's or session's creation, else now). */
  after?: string;
  /** Ends the follow: the iteration ends. */
  signal?: AbortSignal;
  /** Told when the connection dropped, before it is made again after `delayMs`, resuming after the event `after`. */
  onReconnect?: (drop: { error: Error; after: string | undefined; delayMs: number }) => void;
  reconnect?: Partial<ReconnectPolicy>;
}

/** An event of the stream: its `id` (its sequence in Hub's event stream, to resume after), the envelope, and its JSON as the gateway sent it. */
export interface HubStreamEvent {
  id: string;
  event: AnyEvent;
  json: string;
}

/** A follower of Hub's events (HttpHubApi): what the CLI's watch and `hub events` read. */
export interface HubEventStream {
  events(filter: HubEventFilter, options?: HubEventOptions): AsyncIterable<HubStreamEvent>;
}

/** Opens the stream resuming after `after` (none: from where the filter starts); a refusal is thrown as HttpHubApi throws it. */
export type EventStreamConnect = (after: string | undefined, signal: AbortSignal) => Promise<AsyncIterable<Uint8Array>>;

/** Worth connecting again: the gateway (or a proxy before it) could not answer, or the connection broke. */
const isTransient = (error: unknown): boolean =>
  (error instanceof HubError && error.code === 'unavailable') || (error instanceof HttpProblem && error.status >= 500);

/**
 * Hub's events as they come, across connections: when one drops (the gateway restarts, the network
 * breaks, the stream falls silent for `idleMs`), it is made again after a pause that doubles each time
 * up to `maxDelayMs`, resuming after the last event received (`Last-Event-ID`), so that none is missed
 * and none comes twice. A refusal (bad filter, unknown orchestration, wrong token) is thrown at once;
 * `maxFailures` failed connections in a row throw the last failure. Each event is checked against the
 * events catalog; one of a subject this client does not know (a newer gateway's) is passed over. It
 * ends when `signal` aborts, or the consumer stops reading (either closes the connection).
 */
export async function* followEvents(connect: EventStreamConnect, options: HubEventOptions = {}): AsyncGenerator<HubStreamEvent> {
  const policy = { ...DEFAULT_RECONNECT, ...options.reconnect };
  const { signal } = options;
  let after = options.after;
  let failures = 0;
  while (!signal?.aborted) {
    const connection = new AbortController();
    const hangUp = () => connection.abort();
    signal?.addEventListener('abort', hangUp);
    let drop: Error;
    try {
      const body = await connect(after, connection.signal);
      failures = 0;
      for await (const message of serverSentEvents(untilSilent(body, connection, policy.idleMs))) {
        after = message.id ?? after;
        if (!isEventSubject(message.event)) continue;
        const event = parseEventEnvelope(message.event, JSON.parse(message.data)) as AnyEvent;
        yield { id: after ?? '', event, json: message.data };
      }
      drop = unavailable('the gateway ended the event stream');
    } catch (error) {
      if (signal?.aborted) return;
      if (!isTransient(error)) throw error;
      drop = error as Error;
    } finally {
      signal?.removeEventListener('abort', hangUp);
      connection.abort();
    }
    if (++failures > policy.maxFailures) throw drop;
    const delayMs = Math.min(policy.firstDelayMs * 2 ** (failures - 1), policy.maxDelayMs);
    options.onReconnect?.({ error: drop, after, delayMs });
    await sleep(delayMs, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * The body's chunks; a read that breaks, or that waits `idleMs` for nothing (the connection is
 * aborted then), is thrown as `unavailable`. Time spent by the consumer between reads is not counted.
 */
async function* untilSilent(body: AsyncIterable<Uint8Array>, connection: AbortController, idleMs: number): AsyncGenerator<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]();
  for (;;) {
    let silent = false;
    const timer = setTimeout(() => {
      silent = true;
      connection.abort();
    }, idleMs);
    let next: IteratorResult<Uint8Array>;
    try {
      next = await chunks.next();
    } catch (error) {
      throw silent ? unavailable(`the event stream was silent for ${idleMs} ms`) : unavailable(`the event stream broke: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    if (next.done) return;
    yield next.value;
  }
}
