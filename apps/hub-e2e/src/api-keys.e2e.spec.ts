import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { API_KEY_TOKEN_PATTERN, type AuditPage, type CreatedApiKey, type SessionPage, type SessionView } from '@hub/contracts';
import { HubApi } from './support/hub-api';
import { startTestStack, type TestStack } from './support/test-stack';

const WEBHOOK_SECRET = 'claude-webhook-secret-0123456789';

/**
 * Issue 15, API keys: many keys, each with a scope and a tenant, made and revoked by an admin key
 * through the API; what each may do; the audit log naming the key behind each write; each tenant's
 * request rate. The whole stack, driven through the gateway as its clients do.
 */
describe('API keys: scopes, revocation, the audit log and request rates', () => {
  let hub: TestStack;
  /** The bootstrap token: the admin key of the default tenant. */
  let admin: HubApi;
  const as = (key: CreatedApiKey) => new HubApi(hub.stack.gatewayUrl, key.token);

  const createKey = async (name: string, scope: string, tenant?: string): Promise<CreatedApiKey> => {
    const created = await admin.request<CreatedApiKey>('POST', '/api/v1/keys', { name, scope, ...(tenant ? { tenant } : {}) });
    expect(created.status).toBe(201);
    return created.body;
  };

  beforeAll(async () => {
    hub = await startTestStack({
      HUB_TENANT_REQUESTS_PER_MINUTE: '6000,slow=3',
      CLAUDE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    });
    admin = hub.api;
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  it('makes a key whose token is shown once and never listed', async () => {
    const key = await createKey('listed-once', 'read');
    expect(key).toMatchObject({ name: 'listed-once', scope: 'read', tenant: 'default', createdBy: 'bootstrap', revokedAt: null });
    expect(key.token).toMatch(API_KEY_TOKEN_PATTERN);
    const listed = await admin.request<{ items: Record<string, unknown>[] }>('GET', '/api/v1/keys');
    expect(listed.status).toBe(200);
    expect(listed.body.items.find((item) => item['id'] === key.id)).toEqual({ ...key, token: undefined });
    expect(listed.text).not.toContain(key.token.slice(-43));
  });

  it('lets a read key list but not create (403 naming its scope), nor manage keys', async () => {
    const reader = as(await createKey('ci-reader', 'read'));
    expect((await reader.request<SessionPage>('GET', '/api/v1/sessions')).status).toBe(200);
    const refused = await reader.request('POST', '/api/v1/sessions', { type: 'analysis', prompt: 'echo no' });
    expect(refused).toMatchObject({
      status: 403,
      body: { error: 'forbidden', message: 'this key (read) may not POST /api/v1/sessions: it needs the write scope' },
    });
    expect((await reader.request('POST', `/api/v1/sessions/${randomUUID()}/cancel`)).status).toBe(403);
    expect((await reader.request('GET', '/api/v1/keys')).body).toMatchObject({ error: 'forbidden', message: expect.stringContaining('needs the admin scope') });
    expect((await reader.request('GET', '/api/v1/audit')).status).toBe(403);
  });

  it('lets a write key create and cancel, and the audit log names it for each', async () => {
    const writer = as(await createKey('ci-writer', 'write'));
    const session = await writer.createSession({ type: 'analysis', prompt: 'sleep 30' });
    expect((await writer.request('POST', `/api/v1/sessions/${session.id}/cancel`)).status).toBe(202);
    expect((await writer.request('POST', '/api/v1/keys', { name: 'escalated', scope: 'admin' })).status).toBe(403);

    const audit = await admin.request<AuditPage>('GET', `/api/v1/audit?key=ci-writer`);
    expect(audit.status).toBe(200);
    expect(audit.body.items.map(({ key, tenant, action, targetType, targetId }) => ({ key, tenant, action, targetType, targetId }))).toEqual([
      { key: 'ci-writer', tenant: 'default', action: 'sessions.cancel', targetType: 'session', targetId: session.id },
      { key: 'ci-writer', tenant: 'default', action: 'sessions.create', targetType: 'session', targetId: session.id },
    ]);
    const keysMade = await admin.request<AuditPage>('GET', '/api/v1/audit?action=keys.create&key=bootstrap');
    expect(keysMade.body.items.map((entry) => entry.detail?.['name'])).toEqual(expect.arrayContaining(['ci-writer', 'ci-reader']));
  });

  it('refuses a revoked key at once (401), on the API, MCP and git alike', async () => {
    const key = await createKey('short-lived', 'write');
    const client = as(key);
    const gitRefs = (token: string) =>
      fetch(`${hub.stack.gatewayUrl}/git/${randomUUID()}.git/info/refs?service=git-upload-pack`, {
        headers: { authorization: `Basic ${Buffer.from(`git:${token}`).toString('base64')}` },
      });
    expect((await client.request('GET', '/api/v1/sessions')).status).toBe(200);
    expect((await gitRefs(key.token)).status).toBe(404); // let in: that repository does not exist
    const revoked = await admin.request<{ revokedAt: string | null }>('POST', `/api/v1/keys/${key.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect(await client.request('GET', '/api/v1/sessions')).toMatchObject({ status: 401, body: { error: 'unauthorized', message: 'invalid API key' } });
    expect((await client.request('POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(401);
    expect((await gitRefs(key.token)).status).toBe(401);
    const audit = await admin.request<AuditPage>('GET', '/api/v1/audit?action=keys.revoke');
    expect(audit.body.items[0]).toMatchObject({ key: 'bootstrap', targetType: 'api-key', targetId: key.id, detail: { name: 'short-lived' } });
  });

  it("answers 429 with Retry-After past a tenant's rate, and only for that tenant", async () => {
    const key = await createKey('slow-reader', 'read', 'slow');
    const list = () => fetch(`${hub.stack.gatewayUrl}/api/v1/sessions`, { headers: { authorization: `Bearer ${key.token}` } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await list()).status);
    expect(statuses).toEqual([200, 200, 200]);
    const response = await list();
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(await response.json()).toMatchObject({ error: 'rate_limited', message: expect.stringContaining('tenant slow is over its 3 requests a minute') });
    expect((await admin.request('GET', '/api/v1/sessions')).status).toBe(200);
  });

  it('keeps MCP tools and claude-hub requests to the scope of the key (or the webhook secret)', async () => {
    const reader = await createKey('mcp-reader', 'read');
    const transport = new StreamableHTTPClientTransport(new URL(`${hub.stack.gatewayUrl}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${reader.token}` } },
    });
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(transport);
    try {
      const refused = (await client.callTool({ name: 'create_session', arguments: { prompt: 'echo no' } })) as CallToolResult;
      expect(refused).toMatchObject({ isError: true, content: [{ type: 'text', text: 'this key (read) may not call create_session: it needs the write scope' }] });
      const listed = (await client.callTool({ name: 'list_sessions', arguments: {} })) as CallToolResult;
      expect(listed.isError).toBeFalsy();
    } finally {
      await client.close();
    }

    type Envelope = { results: { success: boolean; error?: string; data?: { sessionId?: string } }[] };
    const claudeHub = (token: string, body: unknown) => new HubApi(hub.stack.gatewayUrl, token).request<Envelope>('POST', '/api/webhooks/claude', body);
    const create = { type: 'session.create', session: { type: 'analysis', project: { repository: 'acme/app', requirements: 'echo hi' } } };
    const byReader = await claudeHub(reader.token, create);
    expect(byReader.status).toBe(403);
    expect(byReader.body.results[0]).toMatchObject({ success: false, error: 'this key (read) may not make a session.create request: it needs the write scope' });
    expect((await claudeHub(reader.token, { type: 'session.list' })).status).toBe(200);

    const bySecret = await claudeHub(WEBHOOK_SECRET, create);
    expect(bySecret.status).toBe(200);
    const sessionId = bySecret.body.results[0].data!.sessionId!;
    const audit = await admin.request<AuditPage>('GET', '/api/v1/audit?key=claude-hub');
    expect(audit.body.items[0]).toMatchObject({ key: 'claude-hub', action: 'sessions.create', targetId: sessionId });
    // The webhook secret is the claude-hub endpoint's only.
    expect((await new HubApi(hub.stack.gatewayUrl, WEBHOOK_SECRET).request('GET', '/api/v1/sessions')).status).toBe(401);
  });

  it("shows each tenant's keys only their own sessions: another tenant's is not found", async () => {
    const writerA = as(await createKey('team-x-writer', 'write', 'team-x'));
    const readerA = as(await createKey('team-x-reader', 'read', 'team-x'));
    const readerB = as(await createKey('team-y-reader', 'read', 'team-y'));
    const session = await writerA.createSession({ type: 'analysis', prompt: 'echo mine' });
    expect((await readerA.listSessions()).items.map((s) => s.id)).toEqual([session.id]);
    expect((await readerB.listSessions()).items).toEqual([]);
    expect((await readerB.request('GET', `/api/v1/sessions/${session.id}`)).status).toBe(404);
    expect((await admin.listSessions()).items.map((s) => s.id)).not.toContain(session.id);
  });

  it('keeps a key out of the registry: it is never in a session view nor a log', async () => {
    const writer = await createKey('leaves-no-trace', 'write');
    const session: SessionView = await as(writer).createSession({ type: 'analysis', prompt: 'echo traced' });
    expect(JSON.stringify(session)).not.toContain(writer.token);
    for (const service of Object.values(hub.stack.services)) {
      expect(readFileSync(service.logFile, 'utf8')).not.toContain(writer.token.slice(-43));
    }
  });
});
