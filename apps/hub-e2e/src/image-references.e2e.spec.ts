import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type NatsConnection, type Subscription } from 'nats';
import { RPC } from '@hub/contracts';
import { connectToBus, startTestStack, type TestStack } from './support/test-stack';

const HOSTILE = 'hub/../busybox';
const RULE = "must be a Docker image reference (name[:tag][@digest]); 'hub/../busybox' has an empty or '..' path component";

/**
 * Image references are parsed as Docker parses them at every door (REST, orchestrations, MCP, the
 * registry's own subject), so `hub/../busybox` is refused with a 400 naming the rule, nothing is
 * stored, and the runner never sees it; what is accepted is stored in Docker's familiar form.
 */
describe('image references, checked at the door', () => {
  let hub: TestStack;
  let nc: NatsConnection;
  let everything: Subscription;
  /** Every NATS message that mentions the hostile reference, on any subject. */
  const mentions: string[] = [];

  beforeAll(async () => {
    hub = await startTestStack();
    nc = await connectToBus(hub.stack);
    everything = nc.subscribe('>', {
      callback: (_error, message) => {
        if (Buffer.from(message.data).toString('utf8').includes('../busybox')) mentions.push(message.subject);
      },
    });
  }, 180_000);

  afterAll(async () => {
    everything?.unsubscribe();
    await nc?.close();
    await hub?.stop();
  });

  async function sessionIds(): Promise<string[]> {
    return (await hub.api.listSessions({ limit: 500 })).items.map((s) => s.id);
  }

  async function orchestrationIds(): Promise<string[]> {
    return (await hub.api.request('GET', '/api/v1/orchestrations?limit=500')).body.items.map((o: { id: string }) => o.id);
  }

  it('POST /api/v1/sessions answers 400 naming the rule, and stores nothing', async () => {
    const before = await sessionIds();
    const response = await hub.api.request('POST', '/api/v1/sessions', { type: 'analysis', prompt: 'true', image: HOSTILE, start: true });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'bad_request', message: `image: ${RULE}`, details: [{ path: 'image', message: RULE }] });

    for (const image of ['hub//x', 'HUB/x', 'hub/x:', 'hub/x@sha256:short', ' hub/x', '-x', 'a'.repeat(300)]) {
      const refused = await hub.api.request('POST', '/api/v1/sessions', { prompt: 'true', image });
      expect({ image, status: refused.status }).toEqual({ image, status: 400 });
      expect(refused.body.message).toMatch(/^image: must be a Docker image reference/);
    }
    expect(await sessionIds()).toEqual(before);
  });

  it('POST /api/v1/orchestrations answers 400 naming the session and the rule, and stores nothing', async () => {
    const before = await orchestrationIds();
    const sessionsBefore = await sessionIds();
    const response = await hub.api.request('POST', '/api/v1/orchestrations', {
      name: 'hostile',
      start: true,
      sessions: [
        { name: 'fine', prompt: 'true' },
        { name: 'hostile', prompt: 'true', image: HOSTILE, dependsOn: ['fine'] },
      ],
    });
    expect(response.status).toBe(400);
    expect(response.body.message).toBe(`sessions.1.image: ${RULE}`);
    expect(await orchestrationIds()).toEqual(before);
    expect(await sessionIds()).toEqual(sessionsBefore);
  });

  it('the MCP tools answer a tool error naming the rule, and store nothing', async () => {
    const before = await sessionIds();
    const client = new Client({ name: 'hub-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${hub.stack.gatewayUrl}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${hub.stack.apiToken}` } },
      }),
    );
    try {
      const single = (await client.callTool({ name: 'create_session', arguments: { prompt: 'true', image: HOSTILE, start: true } })) as CallToolResult;
      expect(single.isError).toBe(true);
      expect((single.content[0] as { text: string }).text).toContain(RULE);
      const dag = (await client.callTool({
        name: 'create_orchestration',
        arguments: { name: 'hostile', start: true, sessions: [{ name: 'a', prompt: 'true', image: HOSTILE }] },
      })) as CallToolResult;
      expect(dag.isError).toBe(true);
      expect((dag.content[0] as { text: string }).text).toContain(RULE);
    } finally {
      await client.close();
    }
    expect(await sessionIds()).toEqual(before);
  });

  it("claude-hub's session.create has no image field: one sent anyway is ignored, and the default image is used", async () => {
    const response = await fetch(`${hub.stack.gatewayUrl}/api/webhooks/claude`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${hub.stack.apiToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        type: 'session.create',
        session: { type: 'analysis', project: { repository: 'acme/app', requirements: 'true' }, image: HOSTILE, options: { autoStart: false } },
        image: HOSTILE,
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { results: { data: { session: { id: string } } }[] };
    const session = await hub.api.getSession(body.results[0]!.data.session.id);
    expect(session.image).toBe('hub/test-agent:latest');
  });

  it("the registry refuses it on its own subject too, when the gateway is bypassed", async () => {
    const before = await sessionIds();
    const reply = await nc.request(RPC.createSession, Buffer.from(JSON.stringify({ type: 'analysis', prompt: 'true', image: HOSTILE, start: true })), {
      timeout: 10_000,
    });
    const answer = JSON.parse(Buffer.from(reply.data).toString('utf8'));
    expect(answer).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(answer.error.message).toContain(RULE);
    expect(await sessionIds()).toEqual(before);
  });

  it("stores an accepted reference in Docker's familiar form, and the runner runs it", async () => {
    const spelled = await hub.api.createSession({ type: 'analysis', prompt: 'echo ok', image: 'docker.io/hub/test-agent', start: true });
    expect(spelled.image).toBe('hub/test-agent:latest');
    const defaulted = await hub.api.createSession({ type: 'analysis', prompt: 'true' });
    expect(defaulted.image).toBe('hub/test-agent:latest');
    expect(await hub.api.waitForStatus(spelled.id)).toMatchObject({ status: 'completed', image: 'hub/test-agent:latest' });
  });

  it('the runner never saw the hostile reference, and is still ready', async () => {
    // Only the request this spec itself sent to the registry, bypassing the gateway, carried it
    // (and the registry's refusal, on the reply inbox).
    expect(mentions.filter((subject) => !subject.startsWith('_INBOX.'))).toEqual([RPC.createSession]);
    const runnerLogs = (await readdir(hub.stack.logDir)).filter((file) => file.includes('runner'));
    expect(runnerLogs.length).toBeGreaterThan(0);
    for (const file of runnerLogs) {
      expect({ file, mentions: (await readFile(join(hub.stack.logDir, file), 'utf8')).includes('../busybox') }).toEqual({ file, mentions: false });
    }
    const ready = await fetch(`${hub.api.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
  });
});
