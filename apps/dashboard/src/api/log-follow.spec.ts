import { HubClient } from './hub-client';
import { followLog, parseLine } from './log-follow';

describe('following a log', () => {
  it('yields the lines of each piece of the stream as they come, a line split between pieces whole', async () => {
    const pieces = ['{"t":"1","stream":"stdout","line":"tick 1"}\n{"t":"2","stream":"std', 'err","line":"oops"}\n', '{"t":"3","stream":"hub","line":"[hub: 5 bytes not shown live]"}'];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const piece of pieces) controller.enqueue(new TextEncoder().encode(piece));
        controller.close();
      },
    });
    const urls: string[] = [];
    const fetch = (async (url: string) => {
      urls.push(url);
      return new Response(body, { headers: { 'content-type': 'application/x-ndjson' } });
    }) as unknown as typeof globalThis.fetch;
    const batches: string[][] = [];
    for await (const batch of followLog(new HubClient('t', { fetch }), 's', 3, new AbortController().signal)) batches.push(batch.map((l) => `${l.stream}:${l.line}`));
    expect(urls).toEqual(['/api/v1/sessions/s/logs?attempt=3&follow=true']);
    expect(batches).toEqual([['stdout:tick 1'], ['stderr:oops'], ['hub:[hub: 5 bytes not shown live]']]);
  });

  it('shows a line that is not a log line as it came, as a note of Hub, and skips blank ones', () => {
    expect(parseLine('')).toEqual([]);
    expect(parseLine('not json')).toEqual([{ t: expect.any(String), stream: 'hub', line: 'not json' }]);
  });
});
