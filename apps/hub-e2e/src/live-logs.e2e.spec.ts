import type { LiveLogLine } from '@hub/contracts';
import { HttpHubApi } from '@hub/hub-api';
import { startTestStack, type TestStack } from './support/test-stack';

/** A line a client received, and when (µs since the epoch, the clock containers print with). */
interface Received {
  line: LiveLogLine;
  arrivedAtUs: number;
}

/** Prints the time in µs since the epoch (busybox's date has no %N; adjtimex reads the clock to the µs). */
const NOW_US = `$(adjtimex | awk '/tv_sec/{s=$2}/tv_usec/{u=$2}END{printf "%d%06d", s, u}')`;

describe('live logs: following a session as it runs, every attempt kept', () => {
  let hub: TestStack;

  beforeAll(async () => {
    hub = await startTestStack({ HUB_RETRY_BACKOFF_MS: '200', HUB_LIVE_LOG_MAX_MB: '256' });
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  /** `GET …/logs?follow=true…` as NDJSON, each line recorded as it arrives, until the answer ends. */
  async function follow(sessionId: string, query = ''): Promise<{ status: number; contentType: string | null; lines: Promise<Received[]> }> {
    const response = await fetch(`${hub.api.baseUrl}/api/v1/sessions/${sessionId}/logs?follow=true${query}`, {
      headers: { authorization: `Bearer ${hub.stack.apiToken}` },
    });
    const read = async () => {
      const received: Received[] = [];
      const decoder = new TextDecoder();
      let rest = '';
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        const arrivedAtUs = Date.now() * 1000;
        rest += decoder.decode(chunk, { stream: true });
        const lines = rest.split('\n');
        rest = lines.pop()!;
        for (const line of lines) received.push({ line: JSON.parse(line) as LiveLogLine, arrivedAtUs });
      }
      return received;
    };
    return { status: response.status, contentType: response.headers.get('content-type'), lines: read() };
  }

  it('shows each line as it is printed, timed and marked by stream, ends with the session, and matches the stored log', async () => {
    const prompt = `i=0; while [ $i -lt 30 ]; do echo "tick $i ${NOW_US}"; i=$((i+1)); sleep 0.1; done; echo "to stderr" >&2`;
    const session = await hub.api.createSession({ type: 'analysis', prompt, start: true });
    // Followed before it starts: the follow waits for its attempt.
    const followed = await follow(session.id);
    expect(followed.status).toBe(200);
    expect(followed.contentType).toBe('application/x-ndjson');

    const received = await followed.lines;
    const endedAtUs = Date.now() * 1000;
    const done = await hub.api.getSession(session.id);
    expect(done).toMatchObject({ status: 'completed', attempt: 1 });

    const ticks = received.filter((r) => r.line.line.startsWith('tick '));
    expect(ticks).toHaveLength(30);
    const latenciesMs = ticks.map((r) => (r.arrivedAtUs - Number(r.line.line.split(' ')[2])) / 1000);
    console.log(`live log latency: first ${latenciesMs[0].toFixed(0)} ms, worst ${Math.max(...latenciesMs).toFixed(0)} ms`);
    expect(latenciesMs[0]).toBeLessThan(1_000);
    // Lines came while it ran, not at its end.
    expect(endedAtUs - ticks[0].arrivedAtUs).toBeGreaterThan(2_000_000);
    expect(Math.max(...latenciesMs)).toBeLessThan(1_000);

    expect(received.at(-1)!.line).toMatchObject({ stream: 'stderr', line: 'to stderr' });
    expect(ticks.every((r) => r.line.stream === 'stdout' && !Number.isNaN(Date.parse(r.line.t)))).toBe(true);
    expect(received.filter((r) => r.line.stream === 'hub')).toEqual([]);

    const stored = await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`);
    expect(stored.contentType).toBe('text/plain; charset=utf-8');
    expect(stored.text).toBe(received.map((r) => `${r.line.line}\n`).join(''));

    // Once it ended, a follow replays the attempt from its live log, here as server-sent events.
    const sse = await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs?follow=true`, undefined, { accept: 'text/event-stream' });
    expect(sse.contentType).toBe('text/event-stream; charset=utf-8');
    const events = sse.text.split('\n\n').filter((block) => block.startsWith('data: '));
    expect(events.map((block) => (JSON.parse(block.slice('data: '.length)) as LiveLogLine).line)).toEqual(received.map((r) => r.line.line));
    expect(sse.text.endsWith('event: end\ndata: {}\n\n')).toBe(true);
  });

  it("keeps every attempt's log: a retried session's two attempts are read with ?attempt=1 and ?attempt=2", async () => {
    const session = await hub.api.createSession({
      type: 'analysis',
      retries: 1,
      start: true,
      // Docker keeps the order within each stream only: the line on stderr comes a moment later.
      prompt: 'echo "attempt $HUB_ATTEMPT says hello"; [ "$HUB_ATTEMPT" -ge 2 ] || { sleep 0.3; echo "failing on purpose" >&2; exit 3; }',
    });
    const done = await hub.api.waitForStatus(session.id);
    expect(done).toMatchObject({ status: 'completed', attempt: 2 });
    expect(done.attempts.map((a) => [a.attempt, a.status, a.exitCode])).toEqual([
      [1, 'failed', 3],
      [2, 'completed', 0],
    ]);

    const log = (query: string) => hub.api.request('GET', `/api/v1/sessions/${session.id}/logs${query}`);
    expect((await log('?attempt=1')).text).toBe('attempt 1 says hello\nfailing on purpose\n');
    expect((await log('?attempt=2')).text).toBe('attempt 2 says hello\n');
    expect((await log('')).text).toBe('attempt 2 says hello\n');
    expect(await log('?attempt=3')).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await log('?attempt=0')).toMatchObject({ status: 400, body: { error: 'bad_request' } });
    expect(await log('?follow=yes')).toMatchObject({ status: 400, body: { error: 'bad_request' } });

    // Each attempt's live log is its own: following attempt 1 shows attempt 1 only, marked by stream.
    const first = await follow(session.id, '&attempt=1');
    expect((await first.lines).map((r) => [r.line.stream, r.line.line])).toEqual([
      ['stdout', 'attempt 1 says hello'],
      ['stderr', 'failing on purpose'],
    ]);
    // The same through the port over HTTP (what `hub logs -f` reads), the latest attempt by default.
    const port = new HttpHubApi({ baseUrl: hub.api.baseUrl, apiToken: hub.stack.apiToken });
    const latest: string[] = [];
    for await (const line of await port.followSessionLog(session.id)) latest.push(`${line.stream}:${line.line}`);
    expect(latest).toEqual(['stdout:attempt 2 says hello']);
  });

  it('captures a session printing ~10 MB/s for 3 s whole while a follower reads it live', async () => {
    // 30 × 1,000,000 bytes of 101-byte lines, a tenth of a second apart.
    const prompt = `LINE=$(printf '%0100d' 0); i=0; while [ $i -lt 30 ]; do yes "$LINE" | head -c 1000000; sleep 0.1; i=$((i+1)); done`;
    const session = await hub.api.createSession({ type: 'analysis', prompt, start: true });
    const followed = await follow(session.id);

    const received = await followed.lines;
    const done = await hub.api.getSession(session.id);
    expect(done).toMatchObject({ status: 'completed', log: { bytes: 30_000_000, droppedBytes: 0 } });

    const stored = await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`);
    const expected = `${'0'.repeat(100)}\n`.repeat(Math.ceil(1_000_000 / 101)).slice(0, 1_000_000).repeat(30);
    expect(stored.text.length).toBe(30_000_000);
    expect(stored.text === expected).toBe(true);

    // What the follower saw, and what it was told it did not see, add up to the whole (give or take a
    // newline per gap, and the last line's, which the log does not end with).
    const notShown = received
      .filter((r) => r.line.stream === 'hub')
      .map((r) => Number(/(\d+) bytes not shown live/.exec(r.line.line)?.[1] ?? 0))
      .reduce((sum, bytes) => sum + bytes, 0);
    const shown = received.filter((r) => r.line.stream === 'stdout').reduce((sum, r) => sum + r.line.line.length + 1, 0);
    const gaps = received.filter((r) => r.line.stream === 'hub').length;
    console.log(`followed 30 MB: ${shown} bytes shown live, ${notShown} not shown (${gaps} gaps)`);
    expect(Math.abs(shown + notShown - 30_000_000)).toBeLessThanOrEqual(2 * gaps + 1);
  }, 120_000);
});
