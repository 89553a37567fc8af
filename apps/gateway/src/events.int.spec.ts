import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { connect, JetStreamManager, NatsConnection, Subscription } from 'nats';
import pino from 'pino';
import { EVENT_STREAM, EventPayload, EventSubject, HubError, notFound, RPC, RpcSubject, SessionStatus } from '@hub/contracts';
import { createGatewayHttpApp } from '@hub/gateway-http';
import { serverSentEvents, ServerSentEvent } from '@hub/hub-api';
import { startNatsServer, type NatsServer } from '@hub/infra';
import { decodeJson, encodeJson, ensureEventStream, EventPublisher } from '@hub/messaging';
import { buildSessionView } from '@hub/testing';
import { GatewayModule } from './gateway.module';

/**
 * GET /api/v1/events and the `?wait=` reads, on a real nats-server with the HUB_EVENTS stream: the
 * test publishes the events and answers the registry's request subjects itself.
 */

const TOKEN = 'test-token-0123456789abcdef';
const at = () => new Date().toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('live events and waits', () => {
  let natsServer: NatsServer;
  let storeDir: string;
  let gatewayNc: NatsConnection;
  let testNc: NatsConnection;
  let jsm: JetStreamManager;
  let events: EventPublisher;
  let app: NestExpressApplication;
  let baseUrl: string;
  let registry: Subscription[] = [];

  beforeAll(async () => {
    storeDir = await mkdtemp(join(tmpdir(), 'hub-gateway-events-'));
    natsServer = await startNatsServer({ storeDir });
    gatewayNc = await connect({ servers: natsServer.url, name: 'gateway' });
    testNc = await connect({ servers: natsServer.url, name: 'test' });
    jsm = await testNc.jetstreamManager();
    await ensureEventStream(jsm);
    events = new EventPublisher(testNc);
    const logger = pino({ level: 'silent' });
    const module = GatewayModule.forRoot(gatewayNc, logger, { stateDir: storeDir, liveEvents: { heartbeatMs: 300 } });
    app = await createGatewayHttpApp(module, { apiToken: TOKEN, maxBodyBytes: 1024 * 1024, logger });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterEach(async () => {
    for (const subscription of registry) subscription.unsubscribe();
    registry = [];
    await testNc.flush();
    // Every stream's consumer is gone once its client is: no test leaves one behind.
    await until(async () => (await consumerCount()) === 0);
  });

  afterAll(async () => {
    await app?.close();
    await gatewayNc?.close();
    await testNc?.close();
    await natsServer?.stop();
    await rm(storeDir, { recursive: true, force: true });
  });

  /** Plays the session-registry: answers `subject` with what `reply` makes of each request (a HubError: as an error answer). */
  async function answer(subject: RpcSubject, reply: (request: any) => unknown | Promise<unknown>) {
    registry.push(
      testNc.subscribe(subject, {
        callback: async (_error, msg) => {
          try {
            msg.respond(encodeJson({ ok: true, data: await reply(decodeJson(msg.data)) }));
          } catch (error) {
            const { code, message } = error as HubError;
            msg.respond(encodeJson({ ok: false, error: { code, message } }));
          }
        },
      }),
    );
    await testNc.flush();
  }

  /**
   * The registry of an unfiltered stream's caller: the orchestrations in `theirs` are another tenant's
   * (not found, as the registry answers them), every other is the caller's, and a session is in `orchestrationOf` it.
   */
  async function tenantRegistry(theirs: Set<string>, orchestrationOf: (sessionId: string) => string) {
    await answer(RPC.getOrchestration, ({ orchestrationId }) => {
      if (theirs.has(orchestrationId)) throw notFound('orchestration', orchestrationId);
      return orchestrationView(orchestrationId);
    });
    await answer(RPC.getSession, ({ sessionId }) => {
      const orchestrationId = orchestrationOf(sessionId);
      if (theirs.has(orchestrationId)) throw notFound('session', sessionId);
      return buildSessionView({ id: sessionId, orchestrationId });
    });
  }

  const orchestrationView = (id: string, fields: object = {}) => ({
    id,
    name: 'o',
    status: 'running',
    maxParallel: null,
    sessionCount: 0,
    counts: { created: 0, waiting: 0, ready: 0, starting: 0, running: 0, completed: 0, failed: 0, cancelled: 0, timed_out: 0, skipped: 0 },
    createdAt: at(),
    publish: null,
    result: null,
    sessions: [],
    nextCursor: null,
    ...fields,
  });

  /** An orchestration the registry knows, created now, with these sessions. */
  async function knownOrchestration(sessionIds: string[]) {
    const id = randomUUID();
    const view = orchestrationView(id);
    await answer(RPC.getOrchestration, () => view);
    await answer(RPC.listSessions, () => ({ items: sessionIds.map((s) => buildSessionView({ id: s, orchestrationId: id })), nextCursor: null }));
    return id;
  }

  const statusChanged = (sessionId: string, orchestrationId: string, from: SessionStatus, to: SessionStatus) =>
    ({ sessionId, orchestrationId, from, to, reason: null, exitCode: null, containerId: null, at: at() }) satisfies EventPayload<'session.status-changed'>;

  async function publish<S extends EventSubject>(subject: S, data: EventPayload<S>): Promise<number> {
    await events.publish(subject, data);
    return (await jsm.streams.info(EVENT_STREAM.name)).state.last_seq;
  }

  async function consumerCount(): Promise<number> {
    return (await jsm.streams.info(EVENT_STREAM.name)).state.consumer_count;
  }

  async function until(check: () => Promise<boolean>, timeoutMs = 5_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`not so after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** A client of the stream: the frames as they come, and a way to hang up. */
  async function subscribe(query = '', headers: Record<string, string> = {}) {
    const abort = new AbortController();
    const response = await fetch(`${baseUrl}/api/v1/events${query}`, {
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      signal: abort.signal,
    });
    const frames = serverSentEvents(response.body as AsyncIterable<Uint8Array>);
    return {
      response,
      async take(count: number, timeoutMs = 5_000): Promise<ServerSentEvent[]> {
        const taken: ServerSentEvent[] = [];
        const timer = setTimeout(() => abort.abort(), timeoutMs);
        try {
          while (taken.length < count) {
            const next = await frames.next();
            if (next.done) break;
            taken.push(next.value);
          }
        } catch {
          // aborted at the timeout: what came is answered
        } finally {
          clearTimeout(timer);
        }
        return taken;
      },
      close: () => abort.abort(),
    };
  }

  const idsOf = (frames: ServerSentEvent[]) => frames.map((f) => Number(f.id));

  describe('GET /api/v1/events', () => {
    it('streams only new events without filters, each with its stream sequence as id, its subject and its envelope', async () => {
      await tenantRegistry(new Set(), () => randomUUID());
      await publish('deps.resolved', { sessionId: randomUUID() });
      const client = await subscribe();
      expect(client.response.status).toBe(200);
      expect(client.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const sessionId = randomUUID();
      const first = await publish('deps.resolved', { sessionId });
      const second = await publish('orchestration.finished', { orchestrationId: randomUUID(), status: 'completed', publish: null, at: at() });
      const frames = await client.take(2);
      client.close();
      expect(idsOf(frames)).toEqual([first, second]);
      expect(frames.map((f) => f.event)).toEqual(['deps.resolved', 'orchestration.finished']);
      expect(JSON.parse(frames[0].data)).toEqual({ id: expect.any(String), subject: 'deps.resolved', occurredAt: expect.any(String), data: { sessionId } });
    });

    it("streams without filters only the caller's tenant's events: those of another tenant's orchestrations and sessions are left out", async () => {
      const [ours, theirs] = [randomUUID(), randomUUID()];
      const [ourSession, theirSession] = [randomUUID(), randomUUID()];
      await tenantRegistry(new Set([theirs]), (sessionId) => (sessionId === theirSession ? theirs : ours));
      const client = await subscribe();
      await publish('deps.resolved', { sessionId: theirSession });
      await publish('orchestration.finished', { orchestrationId: theirs, status: 'completed', publish: null, at: at() });
      await publish('session.status-changed', statusChanged(theirSession, theirs, 'running', 'completed'));
      const visible = [
        await publish('deps.resolved', { sessionId: ourSession }),
        await publish('session.status-changed', statusChanged(ourSession, ours, 'running', 'completed')),
        await publish('orchestration.finished', { orchestrationId: ours, status: 'completed', publish: null, at: at() }),
      ];
      const frames = await client.take(3);
      client.close();
      expect(idsOf(frames)).toEqual(visible);
    });

    it("replays an orchestration's events from its creation, those of deps.* and container.* through its sessions, new sessions learnt", async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const orchestrationId = await knownOrchestration([a]);
      const stranger = randomUUID();
      const mine = [
        await publish('session.status-changed', statusChanged(a, orchestrationId, 'created', 'waiting')),
        await publish('deps.resolved', { sessionId: a }),
      ];
      await publish('deps.resolved', { sessionId: stranger });
      mine.push(await publish('session.created', { sessionId: b, orchestrationId, type: 'analysis', image: 'hub/test-agent:latest', dependsOn: [a] }));
      mine.push(await publish('container.started', { sessionId: b, attempt: 1, containerId: 'c', runnerId: 'r', startedAt: at() }));

      const client = await subscribe(`?orchestrationId=${orchestrationId}`);
      const replayed = await client.take(mine.length);
      mine.push(await publish('orchestration.finished', { orchestrationId, status: 'completed', publish: null, at: at() }));
      const live = await client.take(1);
      client.close();
      expect(idsOf([...replayed, ...live])).toEqual(mine);
    });

    it('resumes after Last-Event-ID (or ?after=) with every event missed, once, and Last-Event-ID wins over ?after=', async () => {
      const sessionId = randomUUID();
      const orchestrationId = await knownOrchestration([sessionId]);
      const steps: [SessionStatus, SessionStatus][] = [
        ['created', 'waiting'],
        ['waiting', 'ready'],
        ['ready', 'starting'],
        ['starting', 'running'],
        ['running', 'completed'],
      ];
      const all: number[] = [];
      for (const [from, to] of steps.slice(0, 3)) all.push(await publish('session.status-changed', statusChanged(sessionId, orchestrationId, from, to)));

      const first = await subscribe(`?orchestrationId=${orchestrationId}&type=session.status-changed`);
      const seen = await first.take(2);
      first.close();
      for (const [from, to] of steps.slice(3)) all.push(await publish('session.status-changed', statusChanged(sessionId, orchestrationId, from, to)));

      const resumed = await subscribe(`?orchestrationId=${orchestrationId}&type=session.status-changed&after=1`, { 'last-event-id': seen[1].id! });
      const rest = await resumed.take(3);
      resumed.close();
      expect([...idsOf(seen), ...idsOf(rest)]).toEqual(all);

      await answer(RPC.getSession, () => buildSessionView({ id: sessionId, orchestrationId }));
      const byQuery = await subscribe(`?sessionId=${sessionId}&after=${all[3]}`);
      expect(idsOf(await byQuery.take(1))).toEqual([all[4]]);
      byQuery.close();
    });

    it('removes its JetStream consumer within seconds of the client going', async () => {
      const client = await subscribe();
      expect(await consumerCount()).toBe(1);
      client.close();
      const gone = Date.now();
      await until(async () => (await consumerCount()) === 0);
      expect(Date.now() - gone).toBeLessThan(3_000);
    });

    it('sends a heartbeat comment on a quiet stream', async () => {
      const raw = await new Promise<string>((resolve, reject) => {
        const { hostname, port } = new URL(baseUrl);
        const req = httpRequest({ hostname, port, path: '/api/v1/events', headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            if (text.includes(': heartbeat')) {
              req.destroy();
              resolve(text);
            }
          });
        });
        req.on('error', reject);
        req.end();
      });
      expect(raw).toBe(': heartbeat\n\n');
    });

    it('takes no more from the stream than a slow client reads, then delivers everything in order', async () => {
      const reason = 'r'.repeat(100_000);
      const sessionId = randomUUID();
      const orchestrationId = randomUUID();
      const start = (await jsm.streams.info(EVENT_STREAM.name)).state.last_seq;
      const total = 400; // 40 MB: far more than the sockets between the gateway and the client buffer
      await tenantRegistry(new Set(), () => orchestrationId);
      await Promise.all(
        Array.from({ length: total }, () => events.publish('session.status-changed', { ...statusChanged(sessionId, orchestrationId, 'running', 'running'), reason })),
      );
      const { hostname, port } = new URL(baseUrl);
      const others = new Set((await jsm.consumers.list(EVENT_STREAM.name).next()).map((c) => c.name));
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpRequest({ hostname, port, path: `/api/v1/events?after=${start}`, headers: { authorization: `Bearer ${TOKEN}` } }, resolve);
        req.on('error', reject);
        req.end();
      });
      response.pause();
      await sleep(1_500);
      const [consumer] = (await jsm.consumers.list(EVENT_STREAM.name).next()).filter((c) => !others.has(c.name));
      expect(consumer.num_pending).toBeGreaterThan(0);
      expect(consumer.delivered.stream_seq - start).toBeLessThan(total * 0.75);

      const ids: number[] = [];
      for await (const frame of serverSentEvents(response)) {
        ids.push(Number(frame.id));
        if (ids.length === total) break;
      }
      response.destroy();
      expect(ids).toEqual(Array.from({ length: total }, (_, i) => start + 1 + i));
    });

    it('ends its streams when the gateway stops, which does not wait for their clients', async () => {
      const logger = pino({ level: 'silent' });
      const other = await createGatewayHttpApp(GatewayModule.forRoot(gatewayNc, logger, { stateDir: storeDir }), {
        apiToken: TOKEN,
        maxBodyBytes: 1024,
        logger,
      });
      await other.listen(0, '127.0.0.1');
      const port = (other.getHttpServer().address() as { port: number }).port;
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const frames = serverSentEvents(response.body as AsyncIterable<Uint8Array>);
      const began = Date.now();
      await other.close();
      expect(Date.now() - began).toBeLessThan(2_000);
      expect((await frames.next()).done).toBe(true);
    });

    it('answers 400 in JSON for a bad filter or resume point, before any stream begins', async () => {
      const cases: [string, Record<string, string>, RegExp][] = [
        ['?type=session.created,session.exploded', {}, /^type: not an event subject: "session.exploded"/],
        ['?orchestrationId=nope', {}, /^orchestrationId: must be an orchestration id/],
        ['?sessionId=42', {}, /^sessionId: must be a session id/],
        ['?after=-1', {}, /^after: must be the id of an event/],
        ['?since=yesterday', {}, /^since: is not a known field/],
        ['', { 'last-event-id': 'abc' }, /^Last-Event-ID: must be the id of an event/],
      ];
      for (const [query, headers, message] of cases) {
        const response = await fetch(`${baseUrl}/api/v1/events${query}`, { headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
        const body = (await response.json()) as { message: string };
        expect({ query, status: response.status, body }).toEqual({ query, status: 400, body: expect.objectContaining({ error: 'bad_request' }) });
        expect(body.message).toMatch(message);
      }
      expect(await consumerCount()).toBe(0);
    });

    it('answers 401 without the token and 404 for an unknown orchestration', async () => {
      expect((await fetch(`${baseUrl}/api/v1/events`)).status).toBe(401);
      const id = randomUUID();
      registry.push(
        testNc.subscribe(RPC.getOrchestration, {
          callback: (_error, msg) => msg.respond(encodeJson({ ok: false, error: { code: 'not_found', message: `orchestration ${id} does not exist` } })),
        }),
      );
      await answer(RPC.listSessions, () => ({ items: [], nextCursor: null }));
      const response = await fetch(`${baseUrl}/api/v1/events?orchestrationId=${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect([response.status, await response.json()]).toEqual([404, { error: 'not_found', message: `orchestration ${id} does not exist` }]);
    });
  });

  describe('?wait=', () => {
    const get = async (path: string) => {
      const began = Date.now();
      const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return { status: response.status, wait: response.headers.get('hub-wait'), body: await response.json(), ms: Date.now() - began };
    };

    it('answers a session as soon as it ended, even when it ended while the gateway read it', async () => {
      const session = buildSessionView({ status: 'running' });
      await answer(RPC.getSession, async () => {
        const answered = { ...session };
        if (session.status === 'running') {
          // It ends between the gateway's read and its wait: the wait, registered first, still hears of it.
          session.status = 'completed';
          await publish('session.status-changed', statusChanged(session.id, session.orchestrationId, 'running', 'completed'));
        }
        return answered;
      });
      const answer1 = await get(`/api/v1/sessions/${session.id}?wait=terminal&timeoutSeconds=30`);
      expect(answer1).toMatchObject({ status: 200, wait: 'reached', body: { id: session.id, status: 'completed' } });
      expect(answer1.ms).toBeLessThan(5_000);
    });

    it('answers a session that ends later when its terminal status-changed arrives, not before', async () => {
      const session = buildSessionView({ status: 'running' });
      await answer(RPC.getSession, () => ({ ...session }));
      const waiting = get(`/api/v1/sessions/${session.id}?wait=terminal`);
      await sleep(300);
      await publish('session.status-changed', statusChanged(session.id, session.orchestrationId, 'starting', 'running'));
      await sleep(300);
      session.status = 'failed';
      await publish('session.status-changed', statusChanged(session.id, session.orchestrationId, 'running', 'failed'));
      const answered = await waiting;
      expect(answered).toMatchObject({ status: 200, wait: 'reached', body: { status: 'failed' } });
      expect(answered.ms).toBeGreaterThanOrEqual(600);
      expect(answered.ms).toBeLessThan(5_000);
    });

    it('answers the current view at the timeout, 200 with Hub-Wait: timed-out', async () => {
      const session = buildSessionView({ status: 'waiting' });
      await answer(RPC.getSession, () => session);
      const answered = await get(`/api/v1/sessions/${session.id}?wait=terminal&timeoutSeconds=1`);
      expect(answered).toMatchObject({ status: 200, wait: 'timed-out', body: { status: 'waiting' } });
      expect(answered.ms).toBeGreaterThanOrEqual(1_000);
      const plain = await get(`/api/v1/sessions/${session.id}`);
      expect(plain).toMatchObject({ status: 200, wait: null });
    });

    it('waits for an orchestration to finish, or for its result (answered once the registry recorded it)', async () => {
      const id = randomUUID();
      let status = 'running';
      let recorded: unknown = null;
      const requests: unknown[] = [];
      await answer(RPC.getOrchestration, (request) => (requests.push(request), orchestrationView(id, { status, result: recorded })));
      const terminal = get(`/api/v1/orchestrations/${id}?wait=terminal&limit=5`);
      await sleep(300);
      status = 'failed';
      await publish('orchestration.finished', { orchestrationId: id, status: 'failed', publish: null, at: at() });
      expect(await terminal).toMatchObject({ status: 200, wait: 'reached', body: { id, status: 'failed' } });
      expect(requests).toEqual([{ orchestrationId: id, limit: 5 }, { orchestrationId: id, limit: 5 }]);

      const result = { changes: null, reason: 'no session changed anything', publish: null, at: at() };
      const waiting = get(`/api/v1/orchestrations/${id}?wait=result`);
      await sleep(300);
      await publish('orchestration.result', { orchestrationId: id, result });
      setTimeout(() => (recorded = result), 120); // the registry records it a moment after the runner said it
      expect(await waiting).toMatchObject({ status: 200, wait: 'reached', body: { id, status: 'failed', result } });
    });

    it('answers 400 for a wait it does not know, a timeout out of 1..300, or a timeout without wait', async () => {
      const id = randomUUID();
      for (const query of ['wait=forever', 'wait=terminal&timeoutSeconds=0', 'wait=terminal&timeoutSeconds=301', 'timeoutSeconds=5']) {
        expect({ query, status: (await get(`/api/v1/sessions/${id}?${query}`)).status }).toEqual({ query, status: 400 });
      }
      expect((await get(`/api/v1/orchestrations/${id}?wait=started`)).status).toBe(400);
    });
  });
});
