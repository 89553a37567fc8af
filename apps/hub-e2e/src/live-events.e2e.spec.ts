import { type NatsConnection } from 'nats';
import { EVENT_STREAM, isTerminal, type EventEnvelope, type OrchestrationView, type SessionView } from '@hub/contracts';
import { serverSentEvents, type ServerSentEvent } from '@hub/hub-api';
import { connectToBus, startTestStack, type TestStack } from './support/test-stack';

/** A 20-session DAG of quick sessions: a root, then fans of four (three at the end) joined by one session each. */
function fanOutDag() {
  const layers = [['s01'], ['s02', 's03', 's04', 's05'], ['s06'], ['s07', 's08', 's09', 's10'], ['s11'], ['s12', 's13', 's14', 's15'], ['s16'], ['s17', 's18', 's19'], ['s20']];
  return layers.flatMap((names, i) => names.map((name) => ({ name, prompt: 'true', dependsOn: i ? layers[i - 1] : [] })));
}

type StatusChanged = EventEnvelope<'session.status-changed'>;

describe('live events over HTTP (GET /api/v1/events) and waiting without polling (?wait=)', () => {
  let hub: TestStack;
  let nc: NatsConnection;

  beforeAll(async () => {
    hub = await startTestStack();
    nc = await connectToBus(hub.stack);
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    await hub?.stop();
  });

  /** A client of the stream, as a dashboard would write one with fetch: reads until `enough` says so, then hangs up. */
  async function readEvents(query: string, enough: (events: ServerSentEvent[]) => boolean, lastEventId?: string): Promise<ServerSentEvent[]> {
    const abort = new AbortController();
    const response = await fetch(`${hub.stack.gatewayUrl}/api/v1/events?${query}`, {
      headers: { authorization: `Bearer ${hub.stack.apiToken}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    const events: ServerSentEvent[] = [];
    const timer = setTimeout(() => abort.abort(), 60_000);
    try {
      for await (const event of serverSentEvents(response.body as AsyncIterable<Uint8Array>)) {
        events.push(event);
        if (enough(events)) break;
      }
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    return events;
  }

  const changesOf = (events: ServerSentEvent[]) => events.map((e) => JSON.parse(e.data) as StatusChanged);
  /** Every one of the sessions has ended, as the events tell. */
  const allEnded = (count: number) => (events: ServerSentEvent[]) =>
    new Set(changesOf(events).filter((c) => isTerminal(c.data.to)).map((c) => c.data.sessionId)).size === count;

  /** A GET, with when its answer came and its Hub-Wait header. */
  async function timedGet<T>(path: string) {
    const response = await fetch(`${hub.stack.gatewayUrl}${path}`, { headers: { authorization: `Bearer ${hub.stack.apiToken}` } });
    return { status: response.status, wait: response.headers.get('hub-wait'), body: (await response.json()) as T, at: Date.now() };
  }

  const consumers = async () => (await (await nc.jetstreamManager()).streams.info(EVENT_STREAM.name)).state.consumer_count;

  it("streams an orchestration's every status change in order, and a client that reconnects with Last-Event-ID misses none and repeats none", async () => {
    const before = await consumers();
    const created: OrchestrationView = await hub.api.createOrchestration({ name: 'live', start: true, sessions: fanOutDag() });
    expect(created.sessionCount).toBe(20);
    const waited = timedGet<OrchestrationView>(`/api/v1/orchestrations/${created.id}?wait=terminal&timeoutSeconds=120&limit=1`);
    const last = created.sessions.find((s) => s.name === 's20')!;
    const waitedSession = timedGet<SessionView>(`/api/v1/sessions/${last.id}?wait=terminal&timeoutSeconds=120`);

    // Connected just after creating it: the stream replays from the orchestration's creation.
    const query = `orchestrationId=${created.id}&type=session.status-changed`;
    const firstPart = await readEvents(query, (events) => events.length === 30);
    const resumed = await readEvents(query, (events) => allEnded(20)([...firstPart, ...events]), firstPart.at(-1)!.id);
    const received = [...firstPart, ...resumed];

    // The whole history, read afterwards by a fresh client (from the creation again).
    const full = await readEvents(query, allEnded(20));
    expect(received.map((e) => e.id)).toEqual(full.map((e) => e.id));
    expect(received.map((e) => e.data)).toEqual(full.map((e) => e.data));
    const ids = received.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);

    // Every session's every move, in order: created → waiting → ready → starting → running → completed.
    const changes = changesOf(received);
    expect(new Set(changes.map((c) => c.data.orchestrationId))).toEqual(new Set([created.id]));
    for (const session of created.sessions) {
      const moves = changes.filter((c) => c.data.sessionId === session.id).map((c) => `${c.data.from}->${c.data.to}`);
      expect({ name: session.name, moves }).toEqual({
        name: session.name,
        moves: ['created->waiting', 'waiting->ready', 'ready->starting', 'starting->running', 'running->completed'],
      });
    }
    expect(received.every((e) => e.event === 'session.status-changed')).toBe(true);

    // ?wait=terminal was answered as soon as the last session ended, not at its timeout (120 s).
    const endedAt = Date.parse(changes.at(-1)!.data.at);
    const orchestration = await waited;
    const session = await waitedSession;
    expect(orchestration).toMatchObject({ status: 200, wait: 'reached', body: { id: created.id, status: 'completed' } });
    expect(session).toMatchObject({ status: 200, wait: 'reached', body: { id: last.id, status: 'completed' } });
    expect(orchestration.at - endedAt).toBeLessThan(1_500);
    expect(session.at - endedAt).toBeLessThan(1_500);

    // Nothing is left behind: each client's consumer went with it.
    const deadline = Date.now() + 5_000;
    while ((await consumers()) !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await consumers()).toBe(before);
  });

  it('answers ?wait=terminal within moments of the session ending, and at the timeout with Hub-Wait: timed-out', async () => {
    const quick = await hub.api.createSession({ type: 'analysis', prompt: 'true', start: true });
    const answer = await timedGet<SessionView>(`/api/v1/sessions/${quick.id}?wait=terminal&timeoutSeconds=60`);
    expect(answer).toMatchObject({ status: 200, wait: 'reached', body: { status: 'completed' } });
    expect(answer.at - Date.parse(answer.body.finishedAt!)).toBeLessThan(1_000);

    const slow = await hub.api.createSession({ type: 'analysis', prompt: 'sleep 30', start: true });
    const asked = Date.now();
    const timedOut = await timedGet<SessionView>(`/api/v1/sessions/${slow.id}?wait=terminal&timeoutSeconds=1`);
    expect(timedOut).toMatchObject({ status: 200, wait: 'timed-out' });
    expect(isTerminal(timedOut.body.status)).toBe(false);
    expect(timedOut.at - asked).toBeGreaterThanOrEqual(1_000);
    await hub.api.request('POST', `/api/v1/sessions/${slow.id}/cancel`);
  });
});
