import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import pino from 'pino';
import { badRequest, conflict, SessionViewSchema } from '@hub/contracts';
import { HttpProblem, INLINE_FILE_MAX_BYTES } from '@hub/hub-api';
import { InMemoryHubApi } from '@hub/testing';
import { createHubMcpServer } from './hub-mcp.server';

/** The tools through the real SDK server and client, linked in memory, over an in-memory Hub. */
describe('Hub MCP tools', () => {
  let hub: InMemoryHubApi;
  let client: Client;
  const logLines: string[] = [];

  beforeEach(async () => {
    hub = new InMemoryHubApi();
    logLines.length = 0;
    const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });
    const server = createHubMcpServer(hub, logger);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    client = new Client({ name: 'spec', version: '1.0.0' });
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    await client.listTools(); // as an assistant does: the client then checks each answer against its output schema
  });

  afterEach(() => client.close());

  const call = async (name: string, args?: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  const textOf = (result: CallToolResult) => (result.content[0] as { type: 'text'; text: string }).text;
  const jsonOf = (result: CallToolResult) => {
    expect(result.isError).toBeFalsy();
    const parsed = JSON.parse(textOf(result));
    expect(result.structuredContent).toEqual(parsed);
    return parsed;
  };

  describe('tools/list', () => {
    it('lists the sixteen tools, each with a description, an input schema and an output schema', async () => {
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
      for (const tool of tools) {
        expect(tool.description!.length).toBeGreaterThan(80);
        expect(tool.inputSchema.type).toBe('object');
        expect(tool.outputSchema?.type).toBe('object');
      }
    });

    it('describes arguments an assistant can act on', async () => {
      const byName = Object.fromEntries((await client.listTools()).tools.map((t) => [t.name, t]));
      const props = (name: string) => byName[name].inputSchema.properties as Record<string, Record<string, unknown>>;

      expect(byName.list_sessions.inputSchema.required ?? []).toEqual([]);
      expect(Object.keys(props('list_sessions')).sort()).toEqual(['cursor', 'limit', 'orchestration_id', 'status', 'type']);
      expect(props('list_sessions').status).toMatchObject({ enum: expect.arrayContaining(['completed', 'skipped']) });

      expect(byName.create_session.inputSchema.required ?? []).toEqual([]);
      expect(Object.keys(props('create_session'))).toEqual(
        expect.arrayContaining(['type', 'prompt', 'project', 'repository', 'branch', 'dependencies', 'start']),
      );
      expect(props('create_session').project).toMatchObject({
        type: 'object',
        properties: { repository: expect.any(Object), requirements: expect.any(Object), branch: expect.any(Object) },
      });
      expect(props('create_session').dependencies).toMatchObject({ type: 'array', items: { format: 'uuid' } });
      for (const property of Object.values(props('create_session'))) expect(property.description).toEqual(expect.any(String));

      for (const name of ['start_session', 'get_session_status', 'get_session_output', 'cancel_session', 'get_session_logs', 'rerun_session', 'wait_for_session']) {
        expect({ name, required: byName[name].inputSchema.required }).toEqual({ name, required: ['session_id'] });
      }
      expect(byName.continue_session.inputSchema.required).toEqual(['session_id', 'prompt']);
      expect(byName.set_orchestration_budget.inputSchema.required).toEqual(['orchestration_id', 'budget']);
      for (const name of ['retry_orchestration', 'get_orchestration', 'cancel_orchestration']) {
        expect({ name, required: byName[name].inputSchema.required }).toEqual({ name, required: ['orchestration_id'] });
      }
      expect(props('wait_for_session').timeout_seconds).toMatchObject({ type: 'integer', maximum: 300 });
      expect(byName.list_orchestrations.inputSchema.required ?? []).toEqual([]);
      expect(Object.keys(props('list_orchestrations')).sort()).toEqual(['cursor', 'limit', 'status']);
      expect(props('retry_orchestration').orchestration_id).toMatchObject({ format: 'uuid' });
      expect(props('get_session_logs').tail).toMatchObject({ type: 'integer' });

      // The contract's request schema, as it is: name, sessions (each with dependsOn by name), start, maxParallel, publish, budget.
      expect(byName.create_orchestration.inputSchema.required).toEqual(['name', 'sessions']);
      expect(Object.keys(props('create_orchestration')).sort()).toEqual(['budget', 'maxParallel', 'name', 'publish', 'sessions', 'start']);
      const session = (props('create_orchestration').sessions.items as { required: string[]; properties: object });
      expect(session.required).toEqual(expect.arrayContaining(['name', 'prompt']));
      expect(Object.keys(session.properties)).toEqual(expect.arrayContaining(['name', 'type', 'prompt', 'dependsOn']));
    });
  });

  describe('list_sessions', () => {
    it('lists every session when called without arguments, or with an empty object', async () => {
      const a = await hub.createSession({ type: 'analysis', prompt: 'a' });
      const b = await hub.createSession({ type: 'review', prompt: 'b', orchestrationId: randomUUID() });

      for (const args of [undefined, {}]) {
        const page = jsonOf(await call('list_sessions', args));
        expect(page.items.map((s: { id: string }) => s.id)).toEqual([b.id, a.id]);
        expect(page.nextCursor).toBeNull();
      }
      expect(hub.received.filter((r) => r.method === 'listSessions').map((r) => r.request)).toEqual([{}, {}]);
    });

    it('filters by orchestration and status, and pages', async () => {
      const orchestrationId = randomUUID();
      const mine = await hub.createSession({ type: 'analysis', prompt: 'a', orchestrationId, start: true });
      await hub.createSession({ type: 'analysis', prompt: 'b', orchestrationId });
      await hub.createSession({ type: 'analysis', prompt: 'c' });

      const page = jsonOf(await call('list_sessions', { orchestration_id: orchestrationId, status: 'waiting' }));
      expect(page.items.map((s: { id: string }) => s.id)).toEqual([mine.id]);

      const first = jsonOf(await call('list_sessions', { limit: 2 }));
      expect(first.items).toHaveLength(2);
      const second = jsonOf(await call('list_sessions', { limit: 2, cursor: first.nextCursor }));
      expect(second.items).toHaveLength(1);
    });
  });

  describe('create_session', () => {
    it('maps its arguments onto the REST request and answers the session', async () => {
      const dependency = await hub.createSession({ type: 'analysis', prompt: 'first' });
      const session = jsonOf(
        await call('create_session', {
          type: 'review',
          prompt: 'review it',
          repository: 'https://example.com/r.git',
          branch: 'main',
          dependencies: [dependency.id],
          start: true,
          timeout_seconds: 60,
        }),
      );
      expect(SessionViewSchema.parse(session)).toMatchObject({ type: 'review', status: 'waiting', dependsOn: [dependency.id] });
      expect(hub.received.at(-1)).toEqual({
        method: 'createSession',
        request: {
          type: 'review',
          prompt: 'review it',
          repository: 'https://example.com/r.git',
          branch: 'main',
          dependsOn: [dependency.id],
          start: true,
          timeoutSeconds: 60,
        },
      });
    });

    it('leaves the orchestration to Hub (the registry joins the dependencies\' one) unless told, and passes its refusal on', async () => {
      const first = await hub.createSession({ type: 'analysis', prompt: 'first' });
      jsonOf(await call('create_session', { prompt: 'second', dependencies: [first.id] }));
      expect(hub.received.at(-1)!.request).toEqual({ type: 'implementation', prompt: 'second', dependsOn: [first.id] });
      const orchestrationId = randomUUID();
      jsonOf(await call('create_session', { prompt: 'third', dependencies: [first.id], orchestration_id: orchestrationId }));
      expect(hub.received.at(-1)!.request).toMatchObject({ orchestrationId, dependsOn: [first.id] });

      // The registry's words (CreateSession), passed on as they are.
      const refusal = `dependsOn names sessions of 2 different orchestrations: ${first.id} (orchestration ${first.orchestrationId}); ...`;
      hub.refuse('createSession', badRequest(refusal));
      const mixed = await call('create_session', { prompt: 'x', dependencies: [first.id, randomUUID()] });
      expect(mixed).toMatchObject({ isError: true, content: [{ text: refusal }] });
    });

    it("accepts claude-hub's project: requirements become the prompt; the type defaults", async () => {
      jsonOf(await call('create_session', { project: { repository: 'owner/repo', requirements: 'add tests', branch: 'dev' } }));
      expect(hub.received.at(-1)!.request).toEqual({ type: 'implementation', prompt: 'add tests', repository: 'owner/repo', branch: 'dev' });
    });

    it('refuses a session without a prompt as a tool error naming the field, and asks Hub nothing', async () => {
      const result = await call('create_session', { type: 'analysis' });
      expect(result).toMatchObject({ isError: true });
      expect(textOf(result)).toBe('prompt: is required (give prompt, or project.requirements)');
      expect(hub.received).toEqual([]);
    });

    it('refuses arguments its schema does not allow, and the connection carries on', async () => {
      for (const args of [{ prompt: 'x', dependencies: ['not-a-uuid'] }, { prompt: 'x', dependsOn: [] }, { prompt: '' }]) {
        const result = await call('create_session', args);
        expect({ args, isError: result.isError }).toEqual({ args, isError: true });
      }
      expect(jsonOf(await call('list_sessions')).items).toEqual([]);
    });

    it('refuses an image Docker would not take as a tool error naming the rule, and asks Hub nothing', async () => {
      for (const image of ['hub/../busybox', 'hub//x', 'HUB/x', 'hub/x:']) {
        const result = await call('create_session', { prompt: 'x', image });
        expect({ image, isError: result.isError }).toEqual({ image, isError: true });
        expect(textOf(result)).toContain(`must be a Docker image reference (name[:tag][@digest]); '${image}'`);
      }
      expect(textOf(await call('create_session', { prompt: 'x', image: 'hub/../busybox' }))).toContain(
        "'hub/../busybox' has an empty or '..' path component",
      );
      const orchestration = await call('create_orchestration', { name: 'o', sessions: [{ name: 'a', prompt: 'x', image: 'hub/../busybox' }] });
      expect(orchestration.isError).toBe(true);
      expect(textOf(orchestration)).toContain("'hub/../busybox' has an empty or '..' path component");
      expect(hub.received).toEqual([]);
    });

    it("passes an image on in Docker's familiar form", async () => {
      jsonOf(await call('create_session', { prompt: 'x', image: 'docker.io/hub/test-agent' }));
      expect(hub.received.at(-1)!.request).toMatchObject({ image: 'hub/test-agent:latest' });
      jsonOf(await call('create_orchestration', { name: 'o', sessions: [{ name: 'a', prompt: 'x', image: 'hub/claude-code' }] }));
      expect(hub.received.at(-1)!.request).toMatchObject({ sessions: [{ image: 'hub/claude-code:latest' }] });
    });
  });

  describe('errors', () => {
    it("gives Hub's own message for an unknown session, on every tool that takes one", async () => {
      const id = randomUUID();
      for (const name of ['get_session_status', 'start_session', 'cancel_session', 'get_session_output', 'get_session_logs', 'rerun_session', 'wait_for_session']) {
        const result = await call(name, { session_id: id });
        expect({ name, isError: result.isError, text: textOf(result) }).toEqual({
          name,
          isError: true,
          text: `session ${id} does not exist`,
        });
      }
    });

    it('passes conflicts and unavailability on with their messages', async () => {
      const session = await hub.createSession({ type: 'analysis', prompt: 'x' });
      hub.finish(session.id, { exitCode: 0 });
      expect(textOf(await call('cancel_session', { session_id: session.id }))).toBe(
        `cannot cancel session ${session.id}: it already ended completed`,
      );
      hub.down = true;
      const result = await call('list_sessions');
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe('session-registry is not running: nobody answers hub.registry.sessions.get on NATS');
    });

    it('says only "internal error" for an unexpected failure, and logs it', async () => {
      hub.broken = true;
      const result = await call('get_session_status', { session_id: randomUUID() });
      expect(result).toEqual({ content: [{ type: 'text', text: 'internal error' }], isError: true });
      const line = logLines.map((l) => JSON.parse(l)).find((l) => l.msg === 'mcp tool call failed unexpectedly');
      expect(line).toMatchObject({ tool: 'get_session_status', err: { type: 'TypeError' } });
    });
  });

  describe('output and logs', () => {
    it('answers the exit code, the small text files with their content, and the tail of the log', async () => {
      const session = await hub.createSession({ type: 'analysis', prompt: 'x' });
      const log = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
      hub.finish(session.id, {
        exitCode: 0,
        log,
        files: {
          'result.txt': 'done\n',
          'nested/data.json': '{"a":1}',
          'big.txt': 'x'.repeat(INLINE_FILE_MAX_BYTES + 1),
          'image.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]),
        },
      });

      const output = jsonOf(await call('get_session_output', { session_id: session.id }));
      expect(output).toMatchObject({ sessionId: session.id, status: 'completed', exitCode: 0 });
      const byPath = Object.fromEntries(output.files.map((f: { path: string }) => [f.path, f]));
      expect(byPath['result.txt']).toMatchObject({ size: 5, content: 'done\n', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(byPath['nested/data.json'].content).toBe('{"a":1}');
      expect(byPath['big.txt']).not.toHaveProperty('content');
      expect(byPath['big.txt'].contentOmitted).toMatch(/larger than/);
      expect(byPath['image.png'].contentOmitted).toBe('not UTF-8 text');
      expect(output.logTail.split('\n')).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 11}`));
    });

    it('answers an output without a log while the session has not run', async () => {
      const session = await hub.createSession({ type: 'analysis', prompt: 'x' });
      expect(jsonOf(await call('get_session_output', { session_id: session.id }))).toEqual({
        sessionId: session.id,
        status: 'created',
        exitCode: null,
        files: [],
        skipped: [],
        skippedCount: 0,
        logTail: null,
      });
      const logs = await call('get_session_logs', { session_id: session.id });
      expect(logs.isError).toBe(true);
      expect(textOf(logs)).toMatch(/^no log yet: session .* is created/);
    });

    it('tails the log: 100 lines by default, or as many as asked', async () => {
      const session = await hub.createSession({ type: 'analysis', prompt: 'x' });
      hub.finish(session.id, { log: Array.from({ length: 150 }, (_, i) => `l${i + 1}`).join('\n') + '\n' });

      const byDefault = jsonOf(await call('get_session_logs', { session_id: session.id }));
      expect(byDefault).toMatchObject({ totalLines: 150, lines: 100, truncated: true });
      expect(byDefault.log.split('\n')[0]).toBe('l51');
      const three = jsonOf(await call('get_session_logs', { session_id: session.id, tail: 3 }));
      expect(three).toEqual({ sessionId: session.id, totalLines: 150, lines: 3, truncated: true, log: 'l148\nl149\nl150' });
    });
  });

  describe('wait_for_session', () => {
    it('answers as soon as the session ends, without asking again', async () => {
      const session = await hub.createSession({ type: 'analysis', prompt: 'x', start: true });
      const waiting = call('wait_for_session', { session_id: session.id, timeout_seconds: 60 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      hub.finish(session.id, { status: 'failed', exitCode: 3 });
      const answer = jsonOf(await waiting);
      expect(answer).toMatchObject({ ended: true, session: { id: session.id, status: 'failed', exitCode: 3 } });
      expect(hub.received.filter((r) => r.method === 'waitForSession').map((r) => r.request)).toEqual([
        { sessionId: session.id, timeoutSeconds: 60 },
      ]);
    });

    it('answers the session as it is once the timeout has passed', async () => {
      const session = await hub.createSession({ type: 'analysis', prompt: 'x', start: true });
      const answer = jsonOf(await call('wait_for_session', { session_id: session.id, timeout_seconds: 1 }));
      expect(answer).toMatchObject({ ended: false, session: { id: session.id, status: 'waiting' } });
    });

    it('refuses a timeout over 300 seconds, and asks Hub nothing', async () => {
      const result = await call('wait_for_session', { session_id: randomUUID(), timeout_seconds: 301 });
      expect(result.isError).toBe(true);
      expect(hub.received).toEqual([]);
    });
  });

  describe('orchestrations', () => {
    it('gets one with a page of its sessions, lists them, and cancels one', async () => {
      const created = await hub.createOrchestration({
        name: 'o',
        start: true,
        sessions: [
          { name: 'a', type: 'analysis', prompt: 'x', dependsOn: [] },
          { name: 'b', type: 'analysis', prompt: 'y', dependsOn: ['a'] },
        ],
      });
      const view = jsonOf(await call('get_orchestration', { orchestration_id: created.id, limit: 1 }));
      expect(view).toMatchObject({ id: created.id, name: 'o', sessionCount: 2 });
      expect(hub.received.at(-1)).toEqual({ method: 'getOrchestration', request: created.id });

      const page = jsonOf(await call('list_orchestrations', { status: 'running', limit: 10 }));
      expect(page.items.map((o: { id: string }) => o.id)).toEqual([created.id]);
      expect(hub.received.at(-1)).toEqual({ method: 'listOrchestrations', request: { status: ['running'], limit: 10, cursor: undefined } });

      const cancelled = jsonOf(await call('cancel_orchestration', { orchestration_id: created.id }));
      expect(cancelled).toMatchObject({ id: created.id, counts: { cancelled: 2 } });
    });

    it("gives Hub's own message for an unknown orchestration", async () => {
      const id = randomUUID();
      for (const name of ['get_orchestration', 'cancel_orchestration']) {
        const result = await call(name, { orchestration_id: id });
        expect({ name, isError: result.isError, text: textOf(result) }).toEqual({ name, isError: true, text: `orchestration ${id} does not exist` });
      }
    });
  });

  describe('rerun_session and retry_orchestration', () => {
    it('runs an ended session again, and answers it waiting', async () => {
      const session = await hub.createSession({ type: 'analysis', prompt: 'x' });
      hub.finish(session.id, { status: 'failed', exitCode: 1 });
      const again = jsonOf(await call('rerun_session', { session_id: session.id }));
      expect(SessionViewSchema.parse(again)).toMatchObject({ id: session.id, status: 'waiting', statusReason: 're-run requested', exitCode: null });
      expect(hub.received.at(-1)).toEqual({ method: 'rerunSession', request: session.id });
    });

    it('retries an ended orchestration, and passes the conflicts on with their messages', async () => {
      const created = await hub.createOrchestration({ name: 'o', sessions: [{ name: 'a', type: 'analysis', prompt: 'x', dependsOn: [] }] });
      const [a] = created.sessions;
      hub.finish(a.id, { status: 'failed', exitCode: 1 });
      const summary = jsonOf(await call('retry_orchestration', { orchestration_id: created.id }));
      expect(summary).toMatchObject({ id: created.id, counts: { waiting: 1, failed: 0 } });
      expect(hub.received.at(-1)).toEqual({ method: 'retryOrchestration', request: created.id });

      const refusal = `cannot retry orchestration ${created.id}: it has not ended (sessions on their way: 1 waiting)`;
      hub.refuse('retryOrchestration', conflict(refusal));
      expect(await call('retry_orchestration', { orchestration_id: created.id })).toMatchObject({ isError: true, content: [{ text: refusal }] });
      const running = await call('rerun_session', { session_id: a.id });
      expect(running).toMatchObject({ isError: true, content: [{ text: `cannot re-run session ${a.id}: it has not ended (it is waiting)` }] });
    });
  });

  describe('continue_session and set_orchestration_budget', () => {
    it('continues a completed session as a new one depending on it, and refuses one that did not complete', async () => {
      const session = await hub.createSession({ type: 'analysis', prompt: 'x', name: 'plan' });
      hub.finish(session.id, { status: 'completed', exitCode: 0 });
      const next = jsonOf(await call('continue_session', { session_id: session.id, prompt: 'and now the tests' }));
      expect(SessionViewSchema.parse(next)).toMatchObject({ name: 'plan-continued-1', continues: session.id, dependsOn: [session.id], status: 'waiting' });
      expect(hub.received.at(-1)).toEqual({ method: 'continueSession', request: { sessionId: session.id, prompt: 'and now the tests', start: true } });
      const refused = await call('continue_session', { session_id: next.id, prompt: 'too early' });
      expect(refused).toMatchObject({ isError: true, content: [{ text: `cannot continue session ${next.id}: it is waiting` }] });
    });

    it("sets an orchestration's budget and answers what is left, refusing a budget with no cap", async () => {
      const created = await hub.createOrchestration({ name: 'o', sessions: [{ name: 'a', type: 'analysis', prompt: 'x', dependsOn: [] }] });
      const summary = jsonOf(await call('set_orchestration_budget', { orchestration_id: created.id, budget: { tokens: 50_000 } }));
      expect(summary.budget).toEqual({ tokens: 50_000, usd: null, onExhausted: 'finish', left: { tokens: 50_000, usd: null }, exhausted: false });
      const none = await call('set_orchestration_budget', { orchestration_id: created.id, budget: { onExhausted: 'stop' } });
      expect(none).toMatchObject({ isError: true });
      expect(textOf(none)).toContain('must name tokens, usd or both');
    });
  });

  describe('create_orchestration', () => {
    it('creates a DAG in one call and answers it with its sessions', async () => {
      const orchestration = jsonOf(
        await call('create_orchestration', {
          name: 'pipeline',
          start: true,
          maxParallel: 2,
          sessions: [
            { name: 'plan', type: 'analysis', prompt: 'plan' },
            { name: 'build', prompt: 'build', dependsOn: ['plan'] },
          ],
        }),
      );
      expect(orchestration).toMatchObject({ name: 'pipeline', sessionCount: 2, maxParallel: 2 });
      const [plan, build] = orchestration.sessions;
      expect(build.dependsOn).toEqual([plan.id]);
      expect(hub.received.at(-1)!.request).toMatchObject({ sessions: [{ type: 'analysis' }, { type: 'implementation', dependsOn: ['plan'] }] });
    });

    it("passes Hub's refusal of a bad DAG on as it is", async () => {
      // The registry's words (orchestration-plan.ts); the e2e suite checks them against the registry itself.
      hub.refuse('createOrchestration', badRequest('invalid orchestration: dependencies on sessions that are not in the orchestration: a → ghost'));
      const result = await call('create_orchestration', { name: 'bad', sessions: [{ name: 'a', prompt: 'x', dependsOn: ['ghost'] }] });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe('invalid orchestration: dependencies on sessions that are not in the orchestration: a → ghost');
    });

    it("passes the gateway's 413 for an orchestration too large for Hub's message bus on as it is", async () => {
      const message = "the orchestration is 1187402 bytes once its defaults are filled in; Hub's message bus (NATS) carries at most 1048576: split it or shorten it";
      hub.refuse('createOrchestration', new HttpProblem(413, 'payload_too_large', message));
      const result = await call('create_orchestration', { name: 'big', sessions: [{ name: 'a', prompt: 'x' }] });
      expect(result).toEqual({ content: [{ type: 'text', text: message }], isError: true });
    });
  });

  it('answers many calls in a row on one connection', async () => {
    const session = await hub.createSession({ type: 'analysis', prompt: 'x' });
    for (let i = 0; i < 100; i++) {
      const result = i % 2 ? await call('get_session_status', { session_id: session.id }) : await call('list_sessions');
      expect(result.isError).toBeFalsy();
    }
  });
});
