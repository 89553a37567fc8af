import type { AnyEvent } from '@hub/contracts';
import { HubRequestError, type EventsQuery, type HubClient } from './hub-client';
import { SseParser } from './sse-parser';
import { textChunks } from './text-stream';

/** Where a live stream is: connecting, receiving, waiting to reconnect, or refused for good (a 4xx other than 429). */
export type LiveState = 'connecting' | 'live' | 'retrying' | 'failed';

export interface FollowEventsOptions {
  query: EventsQuery;
  onEvent: (event: AnyEvent) => void;
  onState?: (state: LiveState, detail?: string) => void;
  signal: AbortSignal;
  /** Waits before each reconnection, the last repeated (default 0.5, 1, 2, 5, 10 s). */
  retryDelaysMs?: readonly number[];
}

const RETRY_DELAYS_MS = [500, 1_000, 2_000, 5_000, 10_000];

/**
 * Follows `GET /api/v1/events` until `signal` aborts: each event's envelope to `onEvent`, in order.
 * When the stream ends or breaks (the gateway restarted, the network went), it reconnects after a
 * pause and resumes after the last event received (Last-Event-ID), so nothing is missed or seen
 * twice; a refusal (400, 401, 403, 404) ends it (`failed`, with the API's message).
 */
export async function followEvents(client: HubClient, options: FollowEventsOptions): Promise<void> {
  const { signal } = options;
  const delays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
  let lastEventId: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    options.onState?.('connecting');
    try {
      const response = await client.events(options.query, lastEventId, signal);
      options.onState?.('live');
      failures = 0;
      const parser = new SseParser();
      for await (const text of textChunks(response.body!)) {
        for (const message of parser.push(text)) {
          lastEventId = message.id ?? lastEventId;
          const event = parseEnvelope(message.data);
          if (event) options.onEvent(event);
        }
        if (signal.aborted) return;
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof HubRequestError && error.status >= 400 && error.status < 500 && error.status !== 429) {
        options.onState?.('failed', error.message);
        return;
      }
    }
    if (signal.aborted) return;
    options.onState?.('retrying');
    await pause(delays[Math.min(failures++, delays.length - 1)], signal);
  }
}

function parseEnvelope(data: string): AnyEvent | undefined {
  try {
    const value = JSON.parse(data) as AnyEvent;
    return value && typeof value.subject === 'string' && value.data ? value : undefined;
  } catch {
    return undefined;
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
