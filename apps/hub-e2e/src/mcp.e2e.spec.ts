import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { SessionPage, SessionView } from '@hub/contracts';
import type { SessionLogsResult, SessionOutputResult } from '@hub/mcp';
import { startTestStack, type TestStack } from './support/test-stack';

const HUB_MCP_BIN = join(resolve(__dirname, '../../..'), 'apps/hub-mcp/bin/hub-mcp.js');

/** Hub's MCP tools as an assistant uses them: the SDK's own client, over each transport Hub serves. */
describe('MCP: Hub tools through the SDK client, over streamable HTTP and stdio', () => {
  let hub: TestStack;

  beforeAll(async () => {
    hub = await startTestStack();
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  /** Each transport, opened, with what its server wrote to stderr (the stdio binary's log). */
  const transports: [string, () => { transport: Transport; stderr: () => string | null }][] = [
    [
      'streamable HTTP at /mcp on the gateway',
      () => ({
        transport: new StreamableHTTPClientTransport(new URL(`${hub.stack.gatewayUrl}/mcp`), {
          requestInit: { headers: { Authorization: `Bearer ${hub.stack.apiToken}` } },
        }),
        stderr: () => null,
      }),
    ],
    [
      'stdio, the hub-mcp binary',
      () => {
        const transport = new StdioClientTransport({
          command: process.execPath,
          args: [HUB_MCP_BIN],
          env: { HUB_URL: hub.stack.gatewayUrl, HUB_API_TOKEN: hub.stack.apiToken },
          stderr: 'pipe',
        });
        let stderr = '';
        transport.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        return { transport, stderr: () => stderr };
      },
    ],
  ];

  describe.each(transports)('over %s', (_name, open) => {
    let client: Client;
    let stderr: () => string | null;
    const transportErrors: Error[] = [];

    beforeAll(async () => {
      const opened = open();
      stderr = opened.stderr;
      client = new Client({ name: 'hub-e2e', version: '1.0.0' });
      client.onerror = (error) => transportErrors.push(error);
      await client.connect(opened.transport);
    }, 60_000);

    afterAll(async () => {
      await client?.close();
    });

    const call = async (name: string, args?: Record<string, unknown>) =>
      (await client.callTool({ name, arguments: args })) as CallToolResult;
    const textOf = (result: CallToolResult) => (result.content[0] as { text: string }).text;
    /** The answer of a call that must succeed: its JSON text, which the structured content repeats. */
    async function answer<T>(name: string, args?: Record<string, unknown>): Promise<T> {
      const result = await call(name, args);
      if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
      const parsed = JSON.parse(textOf(result));
      expect(result.structuredContent).toEqual(parsed);
      return parsed as T;
    }

    /** wait_for_session: Hub answers once the session has ended (within the SDK's 60 s request timeout). */
    async function untilEnded(sessionId: string): Promise<SessionView> {
      const { ended, session } = await answer<{ ended: boolean; session: SessionView }>('wait_for_session', {
        session_id: sessionId,
        timeout_seconds: 50,
      });
      if (!ended) throw new Error(`session ${sessionId} is still ${session.status}`);
      return session;
    }

    it('lists the tools, with their schemas', async () => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        'cancel_orchestration',
        'cancel_session',
        'continue_session',
        'create_orchestration',
        'create_session',
        'get_orchestration',
        'get_session_logs',
        'get_session_output',
        'get_session_status',
        'list_orchestrations',
        'list_sessions',
        'rerun_session',
        'retry_orchestration',
        'set_orchestration_budget',
        'start_session',
        'wait_for_session',
      ]);
      const listSessions = tools.find((t) => t.name === 'list_sessions')!;
      expect(listSessions.inputSchema.required ?? []).toEqual([]);
    });

    it('runs a two-session orchestration created and started in one call, and answers its output', async () => {
      const orchestration = await answer<{ id: string; sessions: SessionView[] }>('create_orchestration', {
        name: 'mcp-pipeline',
        start: true,
        sessions: [
          { name: 'write', type: 'analysis', prompt: 'echo writing; echo "hello from write" > /hub/output/note.txt' },
          {
            name: 'read',
            type: 'review',
            dependsOn: ['write'],
            prompt: 'echo reading; (cat /hub/inputs/write/note.txt; echo "read it") > /hub/output/result.txt',
          },
        ],
      });
      const [write, read] = orchestration.sessions;
      expect(read.dependsOn).toEqual([write.id]);

      expect(await untilEnded(write.id)).toMatchObject({ status: 'completed', exitCode: 0 });
      expect(await untilEnded(read.id)).toMatchObject({ status: 'completed', exitCode: 0 });

      const output = await answer<SessionOutputResult>('get_session_output', { session_id: read.id });
      expect(output).toMatchObject({ sessionId: read.id, status: 'completed', exitCode: 0 });
      expect(output.files).toEqual([
        expect.objectContaining({ path: 'result.txt', size: 25, content: 'hello from write\nread it\n' }),
      ]);
      expect(output.logTail).toBe('reading');

      const logs = await answer<SessionLogsResult>('get_session_logs', { session_id: write.id });
      expect(logs.log).toBe('writing');

      const all = await answer<SessionPage>('list_sessions');
      const ids = all.items.map((s) => s.id);
      expect(ids).toEqual(expect.arrayContaining([write.id, read.id]));
      expect(ids).toEqual((await hub.api.listSessions()).items.map((s) => s.id));
      const mine = await answer<SessionPage>('list_sessions', { orchestration_id: orchestration.id });
      expect(mine.items.map((s) => s.id).sort()).toEqual([write.id, read.id].sort());
    });

    it('runs two sessions created one by one with a dependency, started with start_session', async () => {
      const first = await answer<SessionView>('create_session', {
        type: 'analysis',
        prompt: 'echo first > /hub/output/first.txt',
      });
      const second = await answer<SessionView>('create_session', {
        project: { requirements: 'cat /hub/inputs/*/first.txt > /hub/output/second.txt; echo second >> /hub/output/second.txt' },
        dependencies: [first.id],
      });
      expect(second).toMatchObject({ type: 'implementation', status: 'created', dependsOn: [first.id] });

      // Starting the dependent starts what it depends on.
      await answer('start_session', { session_id: second.id });
      expect(await untilEnded(first.id)).toMatchObject({ status: 'completed' });
      expect(await untilEnded(second.id)).toMatchObject({ status: 'completed' });

      const output = await answer<SessionOutputResult>('get_session_output', { session_id: second.id });
      expect(output.files.map((f) => [f.path, f.content])).toEqual([['second.txt', 'first\nsecond\n']]);

      const all = await answer<SessionPage>('list_sessions', {});
      expect(all.items.map((s) => s.id)).toEqual(expect.arrayContaining([first.id, second.id]));
    });

    it('answers 50 calls in a row on one connection', async () => {
      const session = await answer<SessionView>('create_session', { prompt: 'echo many', start: true });
      const tools = ['get_session_status', 'list_sessions', 'get_session_output'];
      for (let i = 0; i < 50; i++) {
        const name = tools[i % tools.length];
        const result = await call(name, name === 'list_sessions' ? undefined : { session_id: session.id });
        expect({ i, name, isError: result.isError ?? false }).toEqual({ i, name, isError: false });
      }
      expect(transportErrors).toEqual([]);
    });

    it("answers an unknown session with the REST API's message, as a tool error", async () => {
      const id = randomUUID();
      const rest = await hub.api.request('GET', `/api/v1/sessions/${id}`);
      expect(rest.status).toBe(404);

      const result = await call('get_session_status', { session_id: id });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe(rest.body.message);

      const cancel = await call('cancel_session', { session_id: id });
      expect(cancel).toMatchObject({ isError: true, content: [{ type: 'text', text: rest.body.message }] });
      // ...and the connection carries on.
      expect((await call('list_sessions')).isError).toBeFalsy();
    });

    it("passes the registry's refusals on in its own words, as REST answers them", async () => {
      const a = await answer<SessionView>('create_session', { prompt: 'true' });
      const b = await answer<SessionView>('create_session', { prompt: 'true' });
      const joined = await answer<SessionView>('create_session', { prompt: 'true', dependencies: [a.id] });
      expect(joined.orchestrationId).toBe(a.orchestrationId); // the registry puts it in its dependency's orchestration
      const both = await call('create_session', { prompt: 'true', dependencies: [a.id, b.id] });
      expect(both.isError).toBe(true);
      expect(textOf(both)).toBe(
        `dependsOn names sessions of 2 different orchestrations: ${a.id} (orchestration ${a.orchestrationId}); ${b.id} ` +
          `(orchestration ${b.orchestrationId}); a session runs in the one orchestration of its dependencies, so they must all ` +
          'belong to one (create them as a chain from one first session, or together with POST /api/v1/orchestrations)',
      );
      const dag = await call('create_orchestration', { name: 'bad', sessions: [{ name: 'a', prompt: 'x', dependsOn: ['ghost'] }] });
      expect(dag.isError).toBe(true);
      const rest = await hub.api.request('POST', '/api/v1/orchestrations', { name: 'bad', sessions: [{ name: 'a', prompt: 'x', dependsOn: ['ghost'] }] });
      expect([rest.status, textOf(dag)]).toEqual([400, rest.body.message]);
      expect(textOf(dag)).toBe('invalid orchestration: dependencies on sessions that are not in the orchestration: a → ghost');
    });

    it('refuses an orchestration too large for NATS with the 413 REST answers, not as a service down', async () => {
      // 9,000 short sessions: under the 1 MiB body limit, over NATS's 1 MiB max_payload with `type` and `dependsOn` added.
      const sessions = Array.from({ length: 9000 }, (_, i) => ({ name: `s${i}`, prompt: 'p'.repeat(60) }));
      const result = await call('create_orchestration', { name: 'too-big-for-nats', sessions });
      expect(result.isError).toBe(true);
      // The stdio binary sends the request with its defaults filled in, so the gateway's body limit (the
      // same 1 MiB) refuses it first: a 413 too, in the gateway's words.
      const overBodyLimit = stderr() !== null;
      expect(textOf(result)).toMatch(
        overBodyLimit
          ? /^request body is larger than the limit of \d+ bytes$/
          : /^the orchestration is \d+ bytes once its defaults are filled in; Hub's message bus \(NATS\) carries at most \d+/,
      );
    });

    it('keeps the protocol clean: no transport error; the stdio binary logs its calls to stderr, as JSON lines', async () => {
      expect(transportErrors).toEqual([]);
      const log = stderr();
      if (log === null) return; // over HTTP the log is the gateway's
      const lines = log.split('\n').filter(Boolean).map((line) => JSON.parse(line));
      expect(lines).toContainEqual(expect.objectContaining({ service: 'hub-mcp', msg: 'mcp tool call', tool: 'get_session_status' }));
      expect(log).not.toContain(hub.stack.apiToken);
    });
  });

  describe('the /mcp endpoint', () => {
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } },
    };
    const post = (headers: Record<string, string>) =>
      fetch(`${hub.stack.gatewayUrl}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(initialize),
      });

    it('answers 401 without the token, or with a wrong one', async () => {
      const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${hub.stack.apiToken}` }];
      for (const headers of refused) {
        const response = await post(headers);
        expect({ headers, status: response.status }).toEqual({ headers, status: 401 });
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        expect(await response.json()).toEqual({ error: 'unauthorized', message: expect.any(String) });
      }
    });

    it('answers a plain JSON-RPC POST with the token, and 405 to GET (it is stateless)', async () => {
      const response = await post({ authorization: `Bearer ${hub.stack.apiToken}` });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: 1, result: { serverInfo: { name: 'hub' } } });

      const get = await fetch(`${hub.stack.gatewayUrl}/mcp`, {
        headers: { authorization: `Bearer ${hub.stack.apiToken}`, accept: 'text/event-stream' },
      });
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
    });
  });
});
