import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { connect, NatsConnection, Subscription } from 'nats';
import pino from 'pino';
import { orchestrationChangesKey, RPC, RpcError, RpcSubject, RunnerView, SessionOutput } from '@hub/contracts';
import { createGatewayHttpApp } from '@hub/gateway-http';
import { startNatsServer, type NatsServer } from '@hub/infra';
import { decodeJson, encodeJson, ensureEventStream, OutputStore } from '@hub/messaging';
import { buildSessionView as sessionView } from '@hub/testing';
import { GatewayModule } from './gateway.module';

/**
 * The gateway as it runs: the Nest HTTP app in this process, on a real nats-server. The test plays
 * the session-registry and the container-runner by answering their request subjects on NATS.
 */

const TOKEN = 'test-token-0123456789abcdef';

type Answer = { ok: true; data: unknown } | { ok: false; error: RpcError };

/** A NATS peer that answers request subjects the way a Hub service does, and keeps what it got. */
class TestResponder {
  readonly received: { subject: string; request: unknown }[] = [];
  private subscriptions: Subscription[] = [];

  constructor(private readonly nc: NatsConnection) {}

  async answer(subject: RpcSubject, reply: (request: any) => Answer): Promise<void> {
    this.subscriptions.push(
      this.nc.subscribe(subject, {
        callback: (_error, msg) => {
          const request = decodeJson(msg.data);
          this.received.push({ subject, request });
          msg.respond(encodeJson(reply(request)));
        },
      }),
    );
    await this.nc.flush();
  }

  requestsTo(subject: RpcSubject): unknown[] {
    return this.received.filter((r) => r.subject === subject).map((r) => r.request);
  }

  async reset(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    this.received.length = 0;
    await this.nc.flush();
  }
}


const orchestrationSummary = (id: string) => ({
  id,
  name: 'o',
  status: 'pending',
  maxParallel: null,
  sessionCount: 1,
  counts: { created: 1, waiting: 0, ready: 0, starting: 0, running: 0, completed: 0, failed: 0, cancelled: 0, timed_out: 0, skipped: 0 },
  createdAt: new Date().toISOString(),
});

const ok = (data: unknown): Answer => ({ ok: true, data });
const fail = (code: RpcError['code'], message: string): Answer => ({ ok: false, error: { code, message } });

/** A runner as the registry lists it: alive, 8 slots, heard from a second ago, unless told otherwise. */
const runnerView = (fields: Partial<RunnerView> & Pick<RunnerView, 'runnerId'>): RunnerView => ({
  status: 'alive',
  labels: [],
  slots: 8,
  inUse: 0,
  startedAt: '2026-11-29T07:59:00.000Z',
  version: null,
  lastSeenAt: '2026-11-29T08:00:10.000Z',
  silentSeconds: 1,
  graceSeconds: 30,
  lostAt: null,
  holds: 0,
  ...fields,
});

describe('gateway HTTP API', () => {
  let natsServer: NatsServer;
  let storeDir: string;
  let gatewayNc: NatsConnection;
  let registryNc: NatsConnection;
  let registry: TestResponder;
  let app: NestExpressApplication;
  let baseUrl: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    storeDir = await mkdtemp(join(tmpdir(), 'hub-gateway-test-'));
    natsServer = await startNatsServer({ storeDir });
    const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });
    gatewayNc = await connect({ servers: natsServer.url, name: 'gateway' });
    registryNc = await connect({ servers: natsServer.url, name: 'test-registry' });
    registry = new TestResponder(registryNc);
    app = await createGatewayHttpApp(GatewayModule.forRoot(gatewayNc, logger, { stateDir: storeDir }), {
      apiToken: TOKEN,
      maxBodyBytes: 1024 * 1024,
      logger,
    });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterEach(() => registry.reset());

  afterAll(async () => {
    await app?.close();
    await gatewayNc?.close();
    await registryNc?.close();
    await natsServer?.stop();
    await rm(storeDir, { recursive: true, force: true });
  });

  async function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
    const raw = typeof init.body === 'string' ? init.body : init.body === undefined ? undefined : JSON.stringify(init.body);
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(raw === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: raw,
    });
    const text = await response.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // logs and files are not JSON
    }
    return { status: response.status, body, text, headers: response.headers };
  }

  /** A GET whose path goes out byte for byte (fetch would resolve `..` segments first). */
  function rawGet(path: string): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      const { hostname, port } = new URL(baseUrl);
      const req = httpRequest({ hostname, port, path, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  describe('authentication', () => {
    it('answers 401 without a token, with a wrong one, or with another scheme, and asks no service', async () => {
      await registry.answer(RPC.createSession, () => ok(sessionView()));
      for (const authorization of ['', 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
        const response = await call('POST', '/api/v1/sessions', { body: { prompt: 'x' }, headers: { authorization } });
        expect({ authorization, status: response.status }).toEqual({ authorization, status: 401 });
        expect(response.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
      }
      expect(registry.requestsTo(RPC.createSession)).toEqual([]);
    });

    it('checks the token before reading the body, and on unknown /api/v1 routes too', async () => {
      const huge = await call('POST', '/api/v1/sessions', { body: { prompt: 'x'.repeat(2 * 1024 * 1024) }, headers: { authorization: '' } });
      expect(huge.status).toBe(401);
      expect((await call('GET', '/api/v1/nothing-here', { headers: { authorization: '' } })).status).toBe(401);
    });

    it('needs no token for /health/live', async () => {
      const response = await fetch(`${baseUrl}/health/live`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
    });
  });

  describe('POST /api/v1/sessions', () => {
    it('sends a valid request to the registry and answers 201 with the session', async () => {
      const created = sessionView({ type: 'review' });
      await registry.answer(RPC.createSession, () => ok(created));
      const request = { type: 'review', prompt: 'echo hi', timeoutSeconds: 60, dependsOn: [randomUUID()], start: true };

      const response = await call('POST', '/api/v1/sessions', { body: request });

      expect(response.status).toBe(201);
      expect(response.body).toEqual(created);
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(registry.requestsTo(RPC.createSession)).toEqual([request]);
    });

    it('answers 400 naming the field for a bad body, and asks the registry nothing', async () => {
      await registry.answer(RPC.createSession, () => ok(sessionView()));
      const cases: [unknown, string][] = [
        [{ type: 'analysis' }, 'prompt'],
        [{ type: 'analysis', prompt: '' }, 'prompt'],
        [{ type: 'analysis', prompt: 'x', timeoutSeconds: -1 }, 'timeoutSeconds'],
        [{ type: 'analysis', prompt: 'x', timeoutSeconds: 'soon' }, 'timeoutSeconds'],
        [{ type: 'analysis', prompt: 'x', surprise: true }, 'surprise'],
        [{ type: 'analysis', prompt: 'x', dependsOn: ['nope'] }, 'dependsOn.0'],
        [{ type: 'Not A Type!', prompt: 'x' }, 'type'],
        [[1, 2, 3], 'body'],
      ];
      for (const [body, field] of cases) {
        const response = await call('POST', '/api/v1/sessions', { body });
        expect({ body, status: response.status }).toEqual({ body, status: 400 });
        expect(response.body.error).toBe('bad_request');
        expect(response.body.message).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
        expect(response.body.details).toContainEqual({ path: field, message: expect.any(String) });
      }
      const missing = await call('POST', '/api/v1/sessions', { body: { type: 'analysis' } });
      expect(missing.body).toEqual({
        error: 'bad_request',
        message: 'prompt: is required',
        details: [{ path: 'prompt', message: 'is required' }],
      });
      expect(registry.requestsTo(RPC.createSession)).toEqual([]);
    });

    it('answers 400 for malformed JSON, 413 for a body over the limit, 415 for another content type', async () => {
      await registry.answer(RPC.createSession, () => ok(sessionView()));
      const malformed = await call('POST', '/api/v1/sessions', { body: '{"type": "analysis", "prompt": ' });
      expect(malformed.status).toBe(400);
      expect(malformed.body).toEqual({ error: 'bad_request', message: expect.stringMatching(/^body is not valid JSON: /) });

      const huge = await call('POST', '/api/v1/sessions', { body: { type: 'analysis', prompt: 'x'.repeat(2 * 1024 * 1024) } });
      expect(huge.status).toBe(413);
      expect(huge.body).toEqual({ error: 'payload_too_large', message: 'request body is larger than the limit of 1048576 bytes' });

      const text = await call('POST', '/api/v1/sessions', { body: 'prompt=x', headers: { 'content-type': 'text/plain' } });
      expect(text.status).toBe(415);
      expect(text.body.error).toBe('unsupported_media_type');

      const none = await call('POST', '/api/v1/sessions');
      expect(none.status).toBe(400);
      expect(none.body.message).toMatch(/^body: /);
      expect(registry.requestsTo(RPC.createSession)).toEqual([]);
    });

    it('answers 400 for a body that is not encoded as its Content-Encoding says, not 500', async () => {
      const response = await call('POST', '/api/v1/sessions', { body: '{"prompt":"x"}', headers: { 'content-encoding': 'gzip' } });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: 'bad_request', message: expect.stringMatching(/^cannot read the request body: .*Content-Encoding/) });
      const gzipped = await fetch(`${baseUrl}/api/v1/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(Buffer.from('{"prompt":1}')),
      });
      expect(gzipped.status).toBe(400);
      expect(((await gzipped.json()) as { message: string }).message).toBe('prompt: must be a string');
      expect(registry.received).toEqual([]);
    });

    it('answers 400 naming where for U+0000 in any string or key (PostgreSQL cannot store it), asking no service', async () => {
      const response = await call('POST', '/api/v1/sessions', { body: { prompt: 'echo a\u0000b' } });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: 'bad_request', message: expect.stringMatching(/^prompt: must not contain U\+0000/) });
      const nested = await call('POST', '/mcp', { body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'create_session', arguments: { prompt: 'x', ['k\u0000']: 1 } } } });
      expect(nested.status).toBe(400);
      expect(nested.body.details).toEqual([{ path: 'params.arguments.k\u0000', message: expect.stringMatching(/^must not contain U\+0000/) }]);
      expect(registry.received).toEqual([]);
    });

    it('answers 503 saying which service is down when no registry answers', async () => {
      const response = await call('POST', '/api/v1/sessions', { body: { type: 'analysis', prompt: 'x' } });
      expect(response.status).toBe(503);
      expect(response.body).toEqual({
        error: 'unavailable',
        message: `session-registry is not running: nobody answers ${RPC.createSession} on NATS`,
      });
    });
  });

  describe('one session', () => {
    it('answers 400 naming the id for an id that is not a UUID, before asking anyone', async () => {
      await registry.answer(RPC.getSession, () => ok(sessionView()));
      for (const [method, path] of [
        ['GET', '/api/v1/sessions/not-an-id'],
        ['POST', '/api/v1/sessions/123/start'],
        ['POST', '/api/v1/sessions/123/cancel'],
        ['GET', '/api/v1/sessions/123/logs'],
        ['GET', '/api/v1/sessions/123/output'],
        ['GET', '/api/v1/sessions/123/output/files/a.txt'],
      ]) {
        const response = await call(method, path);
        expect({ path, status: response.status }).toEqual({ path, status: 400 });
        expect(response.body).toEqual({
          error: 'bad_request',
          message: 'id: must be a session id (a UUID)',
          details: [{ path: 'id', message: 'must be a session id (a UUID)' }],
        });
      }
      expect(registry.received).toEqual([]);
    });

    it('passes the registry answer on: the session, 404 for not_found, 409 for conflict, 202 for start and cancel', async () => {
      const known = sessionView({ status: 'completed' });
      const unknownId = randomUUID();
      await registry.answer(RPC.getSession, ({ sessionId }) =>
        sessionId === known.id ? ok(known) : fail('not_found', `session ${sessionId} does not exist`),
      );
      await registry.answer(RPC.startSession, () => fail('conflict', `session ${known.id} is completed: it cannot start`));
      await registry.answer(RPC.cancelSession, ({ sessionId }) => ok({ ...known, id: sessionId, status: 'cancelled' }));

      expect(await call('GET', `/api/v1/sessions/${known.id}`)).toMatchObject({ status: 200, body: known });
      expect(await call('GET', `/api/v1/sessions/${unknownId}`)).toMatchObject({
        status: 404,
        body: { error: 'not_found', message: `session ${unknownId} does not exist` },
      });
      expect(await call('POST', `/api/v1/sessions/${known.id}/start`)).toMatchObject({
        status: 409,
        body: { error: 'conflict', message: `session ${known.id} is completed: it cannot start` },
      });
      expect(await call('POST', `/api/v1/sessions/${known.id}/cancel`)).toMatchObject({ status: 202, body: { status: 'cancelled' } });
      expect(registry.requestsTo(RPC.startSession)).toEqual([{ sessionId: known.id }]);
    });

    it('answers 500 without details when a service answers something outside the contract', async () => {
      await registry.answer(RPC.getSession, () => ok({ id: 'half a session' }));
      const response = await call('GET', `/api/v1/sessions/${randomUUID()}`);
      expect(response).toMatchObject({ status: 500, body: { error: 'internal', message: 'internal error' } });
      expect(logLines.some((line) => line.includes('"msg":"unexpected error"') && line.includes('"stack"'))).toBe(true);
    });
  });

  describe('GET /api/v1/sessions', () => {
    it('validates the query, converts the page size, and passes it to the registry', async () => {
      await registry.answer(RPC.listSessions, () => ok({ items: [], nextCursor: null }));
      const orchestrationId = randomUUID();
      const response = await call('GET', `/api/v1/sessions?limit=20&status=running&orchestrationId=${orchestrationId}`);
      expect(response).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
      expect(registry.requestsTo(RPC.listSessions)).toEqual([{ limit: 20, status: ['running'], orchestrationId }]);
    });

    it('answers 400 naming the parameter for a bad or unknown one', async () => {
      await registry.answer(RPC.listSessions, () => ok({ items: [], nextCursor: null }));
      for (const [query, field] of [
        ['limit=501', 'limit'],
        ['limit=0', 'limit'],
        ['limit=abc', 'limit'],
        ['limit=1&limit=2', 'limit'],
        ['status=sleeping', 'status'],
        ['orchestrationId=42', 'orchestrationId'],
        ['cursor=%00', 'cursor'],
        ['colour=blue', 'colour'],
        ['filter[status]=running', 'filter'],
      ]) {
        const response = await call('GET', `/api/v1/sessions?${query}`);
        expect({ query, status: response.status }).toEqual({ query, status: 400 });
        expect(response.body.message).toMatch(new RegExp(`^${field.replace(/[[\]]/g, '\\$&')}`));
      }
      expect(registry.requestsTo(RPC.listSessions)).toEqual([]);
    });
  });

  describe('logs and output files', () => {
    const store = () => new OutputStore(registryNc);

    it('serves the log as text once stored, and says why there is none before', async () => {
      const running = sessionView({ status: 'running' });
      const done = sessionView({ status: 'completed' });
      await registry.answer(RPC.getSession, ({ sessionId }) => ok(sessionId === running.id ? running : done));
      await store().putLog(done.id, Buffer.from('hello\nworld\n'));

      const notYet = await call('GET', `/api/v1/sessions/${running.id}/logs`);
      expect(notYet.status).toBe(404);
      expect(notYet.body).toEqual({ error: 'not_found', message: expect.stringMatching(/^no log yet: session .* is running/) });

      const log = await call('GET', `/api/v1/sessions/${done.id}/logs`);
      expect(log.status).toBe(200);
      expect(log.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(log.text).toBe('hello\nworld\n');
    });

    it('answers 404 for the log of an unknown session', async () => {
      const id = randomUUID();
      await registry.answer(RPC.getSession, () => fail('not_found', `session ${id} does not exist`));
      expect(await call('GET', `/api/v1/sessions/${id}/logs`)).toMatchObject({ status: 404, body: { error: 'not_found' } });
    });

    it('serves only files in the output listing, with a type from their extension', async () => {
      const id = randomUUID();
      const output: SessionOutput = {
        sessionId: id,
        status: 'completed',
        exitCode: 0,
        files: [
          { path: 'result.txt', size: 5, sha256: 'a'.repeat(64) },
          { path: 'dir/data.json', size: 8, sha256: 'b'.repeat(64) },
          { path: 'image.png', size: 3, sha256: 'c'.repeat(64) },
        ],
        skipped: [{ path: 'link', reason: 'not a regular file' }],
        skippedCount: 1,
      };
      await registry.answer(RPC.getSessionOutput, () =>
        ok({ sessionId: id, status: 'completed', exitCode: 0, reported: true, legacyFiles: [] }),
      );
      await store().putManifest(id, { sessionId: id, attempt: 1, files: output.files, skipped: output.skipped, skippedCount: 1 });
      await store().putFile(id, 'result.txt', Buffer.from('done\n'));
      await store().putFile(id, 'dir/data.json', Buffer.from('{"a": 1}'));
      await store().putFile(id, 'image.png', Buffer.from([0x89, 0x50, 0x4e]));
      await store().putFile(id, 'secret.txt', Buffer.from('not listed'));

      expect(await call('GET', `/api/v1/sessions/${id}/output`)).toMatchObject({ status: 200, body: output });
      const text = await call('GET', `/api/v1/sessions/${id}/output/files/result.txt`);
      expect([text.status, text.text, text.headers.get('content-type')]).toEqual([200, 'done\n', 'text/plain; charset=utf-8']);
      const json = await call('GET', `/api/v1/sessions/${id}/output/files/dir/data.json`);
      expect([json.status, json.text, json.headers.get('content-type')]).toEqual([200, '{"a": 1}', 'application/json; charset=utf-8']);
      const png = await call('GET', `/api/v1/sessions/${id}/output/files/image.png`);
      expect([png.status, png.headers.get('content-type'), png.headers.get('x-content-type-options')]).toEqual([
        200,
        'application/octet-stream',
        'nosniff',
      ]);
      const unlisted = await call('GET', `/api/v1/sessions/${id}/output/files/secret.txt`);
      expect(unlisted.status).toBe(404);
      expect(unlisted.body).toEqual({ error: 'not_found', message: `output file secret.txt of session ${id} does not exist` });
    });

    it('answers 400 for a path that could leave the output directory, before asking anyone', async () => {
      const id = randomUUID();
      await registry.answer(RPC.getSessionOutput, () => ok({ sessionId: id, status: 'completed', exitCode: 0, files: [] }));
      for (const path of ['../../etc/passwd', 'a/../../b', '..%2F..%2Fetc%2Fpasswd', '%2Fetc%2Fpasswd', 'a.txt%00.png', '..%5C..%5Cx']) {
        const response = await rawGet(`/api/v1/sessions/${id}/output/files/${path}`);
        expect({ path, status: response.status }).toEqual({ path, status: 400 });
        expect(response.body.error).toBe('bad_request');
        expect(response.body.message).toMatch(/^path: /);
      }
      expect(registry.received).toEqual([]);
    });
  });

  describe('POST /api/v1/orchestrations', () => {
    it('answers 413 for an orchestration too large for NATS once its defaults are filled in, asking no service', async () => {
      // 9,000 short sessions: under the 1 MiB body limit, over NATS's 1 MiB max_payload with `type` and `dependsOn` added.
      const sessions = Array.from({ length: 9000 }, (_, i) => ({ name: `s${i}`, prompt: 'p'.repeat(60) }));
      const response = await call('POST', '/api/v1/orchestrations', { body: { name: 'big', sessions } });
      expect(JSON.stringify({ name: 'big', sessions }).length).toBeLessThan(1024 * 1024);
      expect(response.status).toBe(413);
      expect(response.body).toEqual({ error: 'payload_too_large', message: expect.stringMatching(/^the orchestration is \d+ bytes once its defaults are filled in; .*NATS/) });
      expect(registry.received).toEqual([]);
    });

    // The same refusal through each entrance: REST above, MCP here, claude-hub below (all through HubApi).
    it("answers MCP's create_orchestration too large for NATS with the same refusal, as a tool error, asking no service", async () => {
      const sessions = Array.from({ length: 9000 }, (_, i) => ({ name: `s${i}`, prompt: 'p'.repeat(60) }));
      const response = await call('POST', '/mcp', {
        body: { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'create_orchestration', arguments: { name: 'big', sessions } } },
        headers: { accept: 'application/json, text/event-stream' },
      });
      expect(response.text.length).toBeLessThan(10_000);
      expect(response.body).toEqual({
        jsonrpc: '2.0',
        id: 7,
        result: { isError: true, content: [{ type: 'text', text: expect.stringMatching(/^the orchestration is \d+ bytes once its defaults are filled in; .*NATS/) }] },
      });
      expect(registry.received).toEqual([]);
    });

    it('creates, then answers the orchestration as the registry reads it: summary and sessions in one request', async () => {
      const orchestrationId = randomUUID();
      const summary = orchestrationSummary(orchestrationId);
      const view = { ...summary, sessions: [sessionView({ orchestrationId, name: 'a' })], nextCursor: null };
      await registry.answer(RPC.createOrchestration, () => ok(summary));
      await registry.answer(RPC.getOrchestration, () => ok(view));
      const response = await call('POST', '/api/v1/orchestrations', { body: { name: 'o', sessions: [{ name: 'a', prompt: 'x' }] } });
      expect(response).toMatchObject({ status: 201, body: view });
      expect(registry.requestsTo(RPC.getOrchestration)).toEqual([{ orchestrationId }]);
      expect(registry.requestsTo(RPC.listSessions)).toEqual([]);
    });
  });

  describe('GET /api/v1/orchestrations/:id', () => {
    it('answers the summary and a page of the sessions from one registry read, passing the page on', async () => {
      const orchestrationId = randomUUID();
      const view = { ...orchestrationSummary(orchestrationId), sessions: [sessionView({ orchestrationId })], nextCursor: 'czE' };
      await registry.answer(RPC.getOrchestration, () => ok(view));
      expect(await call('GET', `/api/v1/orchestrations/${orchestrationId}`)).toMatchObject({ status: 200, body: view });
      expect(await call('GET', `/api/v1/orchestrations/${orchestrationId}?limit=2&cursor=czE`)).toMatchObject({ status: 200, body: view });
      expect(registry.requestsTo(RPC.getOrchestration)).toEqual([{ orchestrationId }, { orchestrationId, limit: 2, cursor: 'czE' }]);
      expect(registry.requestsTo(RPC.listSessions)).toEqual([]);
      const bad = await call('GET', `/api/v1/orchestrations/${orchestrationId}?limit=501`);
      expect(bad).toMatchObject({ status: 400, body: { error: 'bad_request', message: expect.stringMatching(/^limit: /) } });
    });
  });

  describe('GET /api/v1/orchestrations/:id/changes', () => {
    const ended = (changes: object | null, reason: string | null) => ({ changes, reason, publish: null, at: new Date().toISOString() });
    const answerView = (view: object) => registry.answer(RPC.getOrchestration, () => ok({ sessions: [], nextCursor: null, ...view }));

    it('streams the diff of the combined change', async () => {
      const orchestrationId = randomUUID();
      const summary = { branch: `hub/${orchestrationId}/result`, baseCommit: 'a'.repeat(40), headCommit: 'b'.repeat(40), files: 1, added: 1, removed: 0 };
      const changes = { ...summary, repository: null, sessions: [] };
      await answerView({ ...orchestrationSummary(orchestrationId), status: 'completed', publish: null, result: ended(changes, null) });
      const dir = await mkdtemp(join(tmpdir(), 'hub-gateway-diff-'));
      await writeFile(join(dir, 'diff'), 'diff --git a/x b/x\n+combined\n');
      await writeFile(join(dir, 'bundle'), 'not read here');
      await new OutputStore(registryNc).putChanges(orchestrationChangesKey(orchestrationId), { summary, files: [], diffTruncated: false }, {
        bundle: join(dir, 'bundle'),
        diff: join(dir, 'diff'),
      });
      await rm(dir, { recursive: true, force: true });

      const diff = await call('GET', `/api/v1/orchestrations/${orchestrationId}/changes`);
      expect([diff.status, diff.text, diff.headers.get('content-type')]).toEqual([200, 'diff --git a/x b/x\n+combined\n', 'text/x-diff; charset=utf-8']);
      expect(registry.requestsTo(RPC.getOrchestration)).toEqual([{ orchestrationId, limit: 1 }]);
    });

    it('answers 404 saying why there is none: still running, nothing combined, or not found', async () => {
      const orchestrationId = randomUUID();
      await answerView({ ...orchestrationSummary(orchestrationId), status: 'running', publish: null, result: null });
      expect(await call('GET', `/api/v1/orchestrations/${orchestrationId}/changes`)).toMatchObject({
        status: 404,
        body: { error: 'not_found', message: expect.stringMatching(/its sessions are still running; the combined change is made when every session ended$/) },
      });
      await registry.reset();
      await answerView({ ...orchestrationSummary(orchestrationId), status: 'failed', publish: null, result: ended(null, 'impl-b conflicts with impl-a') });
      expect((await call('GET', `/api/v1/orchestrations/${orchestrationId}/changes`)).body.message).toBe(
        `no combined change: orchestration ${orchestrationId} has none: impl-b conflicts with impl-a`,
      );
      await registry.reset();
      await registry.answer(RPC.getOrchestration, () => fail('not_found', `orchestration ${orchestrationId} does not exist`));
      expect(await call('GET', `/api/v1/orchestrations/${orchestrationId}/changes`)).toMatchObject({ status: 404, body: { error: 'not_found' } });
    });
  });

  describe('git fetch from Hub (/git)', () => {
    const gitUrl = (id: string) => `${baseUrl}/git/${id}.git`;

    it('asks for the token with a Basic challenge, in JSON, before anything else', async () => {
      const response = await fetch(`${gitUrl(randomUUID())}/info/refs?service=git-upload-pack`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="Hub"');
      expect(await response.json()).toEqual({ error: 'unauthorized', message: expect.stringMatching(/^missing credentials/) });
      expect(registry.received).toEqual([]);
    });

    it('answers push 403, other paths 404, an unknown orchestration 404, in JSON', async () => {
      const id = randomUUID();
      const basic = { authorization: `Basic ${Buffer.from(`git:${TOKEN}`).toString('base64')}` };
      const push = await call('POST', `/git/${id}.git/git-receive-pack`, { headers: basic });
      expect(push).toMatchObject({ status: 403, body: { error: 'forbidden', message: expect.stringMatching(/read-only/) } });
      expect(await call('GET', `/git/${id}.git/objects/info/packs`)).toMatchObject({ status: 404, body: { error: 'not_found' } });
      expect(await call('GET', '/git/not-an-id.git/info/refs?service=git-upload-pack')).toMatchObject({ status: 404 });
      expect(registry.received).toEqual([]);
      await registry.answer(RPC.getOrchestration, () => fail('not_found', `orchestration ${id} does not exist`));
      expect(await call('GET', `/git/${id}.git/info/refs?service=git-upload-pack`)).toMatchObject({
        status: 404,
        body: { error: 'not_found', message: `orchestration ${id} does not exist` },
      });
    });

    it('serves git ls-remote through the gateway (an orchestration with no change: no branch)', async () => {
      const id = randomUUID();
      await registry.answer(RPC.getOrchestration, () =>
        ok({ ...orchestrationSummary(id), publish: null, result: null, sessions: [sessionView({ orchestrationId: id })], nextCursor: null }),
      );
      const url = gitUrl(id).replace('http://', `http://hub:${TOKEN}@`);
      const env = { PATH: process.env['PATH'], HOME: storeDir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };
      const { stdout } = await promisify(execFile)('git', ['ls-remote', url], { env });
      expect(stdout).toBe('');
    });
  });

  /** HUB_MAX_BODY_BYTES may be raised past what one NATS message carries: a request may then fit HTTP and not NATS. */
  describe('with a body limit larger than a NATS message', () => {
    let bigApp: NestExpressApplication;
    let bigUrl: string;

    beforeAll(async () => {
      const logger = pino({ level: 'silent' });
      bigApp = await createGatewayHttpApp(GatewayModule.forRoot(gatewayNc, logger, { stateDir: storeDir }), { apiToken: TOKEN, maxBodyBytes: 4 * 1024 * 1024, logger });
      await bigApp.listen(0, '127.0.0.1');
      bigUrl = `http://127.0.0.1:${(bigApp.getHttpServer().address() as { port: number }).port}`;
    });

    afterAll(() => bigApp?.close());

    it("answers claude-hub's orchestrate too large for NATS with the same refusal and a 413, asking no service", async () => {
      // 190,000 control characters: within claude-hub's length limit, 6 bytes each once JSON-encoded.
      const body = { type: 'orchestrate', project: { repository: 'owner/repo', requirements: '\u0001'.repeat(190_000) } };
      const response = await fetch(`${bigUrl}/api/webhooks/claude`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({
        message: 'Webhook processed',
        event: 'orchestrate',
        handlerCount: 1,
        results: [{ success: false, error: expect.stringMatching(/^the orchestration is \d+ bytes once its defaults are filled in; .*NATS/) }],
      });
      expect(registry.received).toEqual([]);
    });
  });

  describe('errors', () => {
    /** Bytes as they are, on a connection of their own; the whole answer, once the server closes it. */
    function rawExchange(bytes: string): Promise<string> {
      return new Promise((resolve, reject) => {
        const { hostname, port } = new URL(baseUrl);
        const socket = connectTcp(Number(port), hostname);
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
        socket.on('error', reject);
        socket.on('close', () => resolve(answer));
        socket.end(bytes);
      });
    }
    const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

    it('answers what Node refuses before any route (malformed HTTP, headers over the limit, no Host, an unknown Expect) in JSON too', async () => {
      const malformed = await rawExchange('GET /health/live\u0001 HTTP/1.1\r\nhost: x\r\n\r\n');
      expect(malformed).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(bodyOf(malformed)).toEqual({ error: 'bad_request', message: expect.stringMatching(/^malformed HTTP request: /) });

      const huge = await rawExchange(`GET /health/live HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(huge).toMatch(/^HTTP\/1\.1 431 /);
      expect(bodyOf(huge)).toEqual({ error: 'headers_too_large', message: 'the request line and headers are larger than the limit of 16384 bytes' });

      const expectation = await rawExchange('GET /health/live HTTP/1.1\r\nhost: x\r\nexpect: foo\r\n\r\n');
      expect(expectation).toMatch(/^HTTP\/1\.1 417 /);
      expect(bodyOf(expectation)).toEqual({ error: 'expectation_failed', message: 'Expect: foo is not supported (only 100-continue is)' });

      const noHost = await rawExchange('GET /health/live HTTP/1.1\r\n\r\n');
      expect(noHost).toMatch(/^HTTP\/1\.1 400 /);
      expect(bodyOf(noHost)).toEqual({ error: 'bad_request', message: 'an HTTP/1.1 request must have a Host header' });

      const head = await rawExchange('HEAD /health/live\u0001 HTTP/1.1\r\nhost: x\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 400 [^]*\r\n\r\n$/); // no body after the head of a response to HEAD

      expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
    });

    it('answers unknown routes with a JSON 404 naming the route', async () => {
      expect(await call('GET', '/api/v1/nothing-here?x=1')).toMatchObject({
        status: 404,
        body: { error: 'not_found', message: 'no route GET /api/v1/nothing-here' },
      });
      expect(await call('DELETE', '/api/v1/sessions')).toMatchObject({ status: 404, body: { error: 'not_found' } });
      expect(await call('GET', '/nowhere')).toMatchObject({ status: 404, body: { message: 'no route GET /nowhere' } });
    });

    it('logs each request with method, path, status and duration, and never the token', async () => {
      await call('GET', '/api/v1/sessions/not-an-id');
      const line = logLines.map((l) => JSON.parse(l)).find((l) => l.msg === 'http request' && l.path === '/api/v1/sessions/not-an-id');
      expect(line).toMatchObject({ method: 'GET', status: 400, ms: expect.any(Number) });
      expect(logLines.join('\n')).not.toContain(TOKEN);
    });
  });

  describe('GET /health/ready', () => {
    it('answers 503 naming each missing piece and how to start it', async () => {
      const response = await fetch(`${baseUrl}/health/ready`);
      const body = (await response.json()) as { status: string; checks: { name: string; ok: boolean; detail: string; fix?: string }[] };
      expect(response.status).toBe(503);
      expect(body.status).toBe('unavailable');
      const check = (name: string) => body.checks.find((c) => c.name === name);
      expect(check('nats')).toMatchObject({ ok: true });
      expect(check('jetstream stream HUB_EVENTS')).toMatchObject({ ok: false, detail: 'the event stream does not exist yet' });
      expect(check('session-registry')).toEqual({
        name: 'session-registry',
        ok: false,
        detail: `session-registry is not running: nobody answers ${RPC.registryHealth} on NATS`,
        fix: expect.stringContaining('npm run hub'),
      });
      expect(check('container-runner')).toMatchObject({
        ok: false,
        detail: expect.stringContaining('container-runner is not running'),
        fix: expect.stringContaining('npm run hub'),
      });
      // What fixes it: the stack's supervisor, the service's log, `npm run hub`.
      expect(check('session-registry')!.fix).toMatch(/restarts a service that stops.*logs\/session-registry\.log.*npm run hub/);
      expect(check('gateway/restarts')).toMatchObject({ ok: true, detail: expect.stringContaining("not started by npm run hub's stack") });
    });

    it('answers 200 with every service check when all are there', async () => {
      await ensureEventStream(await registryNc.jetstreamManager());
      await registry.answer(RPC.registryHealth, () =>
        ok({ service: 'session-registry', checks: [{ name: 'postgresql', ok: true, detail: 'connected' }] }),
      );
      await registry.answer(RPC.resolverHealth, () =>
        ok({ service: 'dependency-resolver', checks: [{ name: 'events', ok: true, detail: 'consuming' }] }),
      );
      await registry.answer(RPC.runnerHealth, () =>
        ok({
          service: 'container-runner r1',
          checks: [
            { name: 'docker', ok: true, detail: 'engine reachable' },
            { name: 'image hub/test-agent:latest', ok: true, detail: 'present' },
          ],
        }),
      );
      await registry.answer(RPC.listRunners, () =>
        ok({ runners: [runnerView({ runnerId: 'r1' })], leaseGraceSeconds: 30, watchingSince: '2026-11-29T08:00:00.000Z' }),
      );
      const response = await fetch(`${baseUrl}/health/ready`);
      const body = (await response.json()) as { status: string; checks: { name: string; ok: boolean }[] };
      expect(response.status).toBe(200);
      expect(body.status).toBe('ok');
      expect(body.checks.map((c) => c.name)).toEqual([
        'nats',
        'jetstream stream HUB_EVENTS',
        'gateway/restarts',
        'session-registry',
        'session-registry/postgresql',
        'dependency-resolver',
        'dependency-resolver/events',
        'container-runner',
        'container-runner/docker',
        'container-runner/image hub/test-agent:latest',
        'runners/r1',
      ]);
    });

    it('names a lost runner that still holds sessions, and is not ready', async () => {
      await ensureEventStream(await registryNc.jetstreamManager());
      await registry.answer(RPC.listRunners, () =>
        ok({
          runners: [runnerView({ runnerId: 'r1' }), runnerView({ runnerId: 'r2', status: 'lost', lostAt: '2026-11-29T08:00:40.000Z', holds: 3 })],
          leaseGraceSeconds: 30,
          watchingSince: '2026-11-29T08:00:00.000Z',
        }),
      );
      const response = await fetch(`${baseUrl}/health/ready`);
      const body = (await response.json()) as { checks: { name: string; ok: boolean; detail: string }[] };
      expect(response.status).toBe(503);
      expect(body.checks.find((c) => c.name === 'runners/r2')).toMatchObject({ ok: false, detail: expect.stringContaining('holds 3 sessions') });
      expect(body.checks.find((c) => c.name === 'runners/r1')).toMatchObject({ ok: true });
    });

    it('passes a failing check of a service on with its fix', async () => {
      await ensureEventStream(await registryNc.jetstreamManager());
      await registry.answer(RPC.registryHealth, () =>
        ok({ service: 'session-registry', checks: [{ name: 'postgresql', ok: false, detail: 'refused', fix: 'start PostgreSQL' }] }),
      );
      await registry.answer(RPC.runnerHealth, () => ok({ service: 'container-runner r1', checks: [] }));
      const response = await fetch(`${baseUrl}/health/ready`);
      const body = (await response.json()) as { checks: unknown[] };
      expect(response.status).toBe(503);
      expect(body.checks).toContainEqual({ name: 'session-registry/postgresql', ok: false, detail: 'refused', fix: 'start PostgreSQL' });
    });
  });
});
