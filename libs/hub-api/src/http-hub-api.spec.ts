import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HubError, NO_USAGE } from '@hub/contracts';
import { HttpHubApi } from './http-hub-api';
import { HttpProblem } from './http-problem';
import { readText } from './output-contents';

const summary = (id: string) => ({
  id,
  name: 'o',
  status: 'pending',
  maxParallel: null,
  sessionCount: 0,
  counts: { created: 0, waiting: 0, ready: 0, starting: 0, running: 0, completed: 0, failed: 0, cancelled: 0, timed_out: 0, skipped: 0 },
  createdAt: new Date().toISOString(),
});

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

/** A stand-in gateway on a real port: answers each request with the next canned answer. */
describe('HttpHubApi', () => {
  let server: Server;
  let baseUrl: string;
  const seen: Seen[] = [];
  let answer: { status: number; type?: string; body: string; headers?: Record<string, string> } = { status: 200, body: '{}' };

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
        res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json', ...answer.headers }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  beforeEach(() => {
    seen.length = 0;
  });

  const client = () => new HttpHubApi({ baseUrl, apiToken: 'secret-token-0123456789' });

  it('sends the bearer token, the JSON body and the query the REST API expects', async () => {
    answer = { status: 200, body: JSON.stringify({ items: [], nextCursor: null }) };
    const orchestrationId = randomUUID();
    await client().listSessions({ orchestrationId, status: ['running', 'failed'], limit: undefined });
    await client().listSessions({});
    answer = { status: 200, type: 'text/plain', body: 'hello\n' };
    const file = await client().readOutputFile(orchestrationId, 'dir/a b#.txt');
    expect([await readText(file), file.contentType]).toEqual(['hello\n', 'text/plain']);
    answer = { status: 200, body: JSON.stringify({ ...summary(orchestrationId), sessions: [], nextCursor: null }) };
    await client().getOrchestration(orchestrationId, { limit: 2, cursor: 'abc' });

    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      `GET /api/v1/sessions?orchestrationId=${orchestrationId}&status=running%2Cfailed`,
      'GET /api/v1/sessions',
      `GET /api/v1/sessions/${orchestrationId}/output/files/dir/a%20b%23.txt`,
      `GET /api/v1/orchestrations/${orchestrationId}?limit=2&cursor=abc`,
    ]);
    expect(seen[0].authorization).toBe('Bearer secret-token-0123456789');
  });

  it('asks a wait with ?wait= and timeoutSeconds, and tells from Hub-Wait whether it was reached', async () => {
    const id = randomUUID();
    const view = { ...summary(id), sessions: [], nextCursor: null };
    answer = { status: 200, body: JSON.stringify(view), headers: { 'hub-wait': 'timed-out' } };
    expect(await client().waitForOrchestration(id, 'result', 5, { limit: 1 })).toEqual({
      view: { ...view, publish: null, usage: NO_USAGE, budget: null },
      reached: false,
    });
    answer = { status: 200, body: JSON.stringify(view), headers: { 'hub-wait': 'reached' } };
    expect((await client().waitForOrchestration(id, 'terminal', 30)).reached).toBe(true);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      `GET /api/v1/orchestrations/${id}?limit=1&wait=result&timeoutSeconds=5`,
      `GET /api/v1/orchestrations/${id}?wait=terminal&timeoutSeconds=30`,
    ]);
  });

  it("throws the gateway's error as the HubError it was: same code, same message", async () => {
    const id = randomUUID();
    answer = { status: 404, body: JSON.stringify({ error: 'not_found', message: `session ${id} does not exist` }) };
    const error = await client().getSession(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HubError);
    expect(error).toMatchObject({ code: 'not_found', message: `session ${id} does not exist` });

    const details = [{ path: 'prompt', message: 'is required' }];
    answer = { status: 400, body: JSON.stringify({ error: 'bad_request', message: 'prompt: is required', details }) };
    await expect(client().createSession({ type: 'analysis', prompt: 'x' })).rejects.toMatchObject({ code: 'bad_request', details });
  });

  it("throws the gateway's own refusals (401) and non-JSON answers as HttpProblems with a message to act on", async () => {
    answer = { status: 401, body: JSON.stringify({ error: 'unauthorized', message: 'invalid API token' }) };
    const error = await client().listSessions({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpProblem);
    expect(error).toMatchObject({ status: 401, code: 'unauthorized', message: 'invalid API token' });

    answer = { status: 502, type: 'text/html', body: '<h1>Bad Gateway</h1>' };
    await expect(client().listSessions({})).rejects.toThrow('the Hub gateway answered HTTP 502: <h1>Bad Gateway</h1>');
  });

  it("throws the gateway's 413 as the HttpProblem it was, so a tool shows its message", async () => {
    const message = "the orchestration is 1200000 bytes once its defaults are filled in; Hub's message bus (NATS) carries at most 1048576: split it or shorten it";
    answer = { status: 413, body: JSON.stringify({ error: 'payload_too_large', message }) };
    const error = await client().createOrchestration({ name: 'big', sessions: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpProblem);
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large', message });
  });

  it('reads the readiness report whether Hub is ready (200) or not (503)', async () => {
    const checks = [{ name: 'nats', ok: false, detail: 'not connected', fix: 'start it' }];
    answer = { status: 503, body: JSON.stringify({ status: 'unavailable', checks }) };
    expect(await client().readiness()).toEqual({ status: 'unavailable', checks });
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/health/ready' });
  });

  it('says the gateway cannot be reached, and where, when nothing listens there', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const error = await new HttpHubApi({ baseUrl: `http://127.0.0.1:${port}`, apiToken: 'x' }).getSession(randomUUID()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HubError);
    expect(error).toMatchObject({ code: 'unavailable', message: `cannot reach the Hub gateway at http://127.0.0.1:${port} (ECONNREFUSED); is Hub running? (npm run hub)` });
  });

  it('refuses an answer that is not of the contract shape', async () => {
    answer = { status: 200, body: JSON.stringify({ id: 1 }) };
    await expect(client().getSession(randomUUID())).rejects.toThrow();
  });
});
