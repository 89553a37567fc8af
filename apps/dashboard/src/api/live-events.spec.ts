import type { AnyEvent } from '@hub/contracts';
import { HubClient } from './hub-client';
import { followEvents, type LiveState } from './live-events';

const frame = (id: number, sessionId: string) =>
  `id: ${id}\nevent: session.status-changed\ndata: ${JSON.stringify({ id: `e${id}`, subject: 'session.status-changed', occurredAt: 'now', data: { sessionId } })}\n\n`;

const sse = (...texts: string[]) =>
  new Response(
    new ReadableStream({
      start(controller) {
        for (const text of texts) controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      },
    }),
    { headers: { 'content-type': 'text/event-stream' } },
  );

describe('followEvents', () => {
  it('hands on each event in order, and resumes after the last one when the stream ends', async () => {
    const controller = new AbortController();
    const lastEventIds: (string | null)[] = [];
    const answers = [sse(': following\n\n', frame(1, 'a'), frame(2, 'b').slice(0, 20), frame(2, 'b').slice(20)), sse(frame(3, 'c'))];
    const fetch = (async (_url: string, init: RequestInit) => {
      lastEventIds.push(new Headers(init.headers).get('last-event-id'));
      const answer = answers.shift();
      if (!answer) controller.abort();
      return answer ?? sse();
    }) as unknown as typeof globalThis.fetch;
    const seen: string[] = [];
    const states: LiveState[] = [];
    await followEvents(new HubClient('t', { fetch }), {
      query: { orchestrationId: 'o' },
      signal: controller.signal,
      retryDelaysMs: [1],
      onEvent: (event: AnyEvent) => seen.push((event.data as { sessionId: string }).sessionId),
      onState: (state) => states.push(state),
    });
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(lastEventIds).toEqual([null, '2', '3']);
    expect(states.slice(0, 5)).toEqual(['connecting', 'live', 'retrying', 'connecting', 'live']);
  });

  it('tries again after a failure, and stops for good on a refusal, saying why', async () => {
    const answers: (Response | Error)[] = [new TypeError('fetch failed'), new Response(JSON.stringify({ error: 'not_found', message: 'no such orchestration' }), { status: 404 })];
    const fetch = (async () => {
      const answer = answers.shift()!;
      if (answer instanceof Error) throw answer;
      return answer;
    }) as unknown as typeof globalThis.fetch;
    const states: [LiveState, string | undefined][] = [];
    await followEvents(new HubClient('t', { fetch }), {
      query: {},
      signal: new AbortController().signal,
      retryDelaysMs: [1],
      onEvent: () => undefined,
      onState: (state, detail) => states.push([state, detail]),
    });
    expect(states).toEqual([
      ['connecting', undefined],
      ['retrying', undefined],
      ['connecting', undefined],
      ['failed', 'no such orchestration'],
    ]);
  });
});
