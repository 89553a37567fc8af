import { randomUUID } from 'node:crypto';
import {
  CLAUDE_SESSION_STATUSES,
  ClaudeSession,
  ClaudeSessionOutputSchema,
  ClaudeSessionSchema,
  ClaudeWebhookEnvelope,
  ClaudeWebhookEnvelopeSchema,
} from '@hub/gateway-http';
import { join } from 'node:path';
import { makeTempDir } from '@hub/infra';
import { createBareRepository } from './support/git-repository';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * claude-hub's clients against Hub's POST /api/webhooks/claude. The bodies are the ones
 * mcp-claude-hub's mcp_server.py (ClaudeOrchestrationMCP) builds, and the answers are read the way
 * it reads them; the sessions they create run on the real stack with the test agent, whose prompt
 * is a shell command.
 */

/** mcp_server.py create_session: its payload, built the same way (json.dumps keeps this key order). */
function createSessionBody(args: {
  sessionType: string;
  repository: string;
  requirements: string;
  context?: string;
  branch?: string;
  dependencies?: string[];
  autoStart?: boolean;
  timeoutMinutes?: number;
}) {
  const project: Record<string, string> = { repository: args.repository, requirements: args.requirements };
  if (args.context) project['context'] = args.context;
  if (args.branch) project['branch'] = args.branch;
  const validDeps = (args.dependencies ?? []).filter((dep) => dep && dep.toLowerCase() !== 'none');
  const options: Record<string, unknown> = { autoStart: args.autoStart ?? true };
  if (args.timeoutMinutes) options['timeout'] = args.timeoutMinutes * 60;
  return { type: 'session.create', session: { type: args.sessionType, project, dependencies: validDeps, options } };
}

interface Answer {
  status: number;
  body: ClaudeWebhookEnvelope;
}

class ClaudeHubClient {
  constructor(
    private readonly url: string,
    private readonly secret: string,
  ) {}

  async post(payload: unknown, authorization = `Bearer ${this.secret}`): Promise<Answer> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { Authorization: authorization, 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
    });
    return { status: response.status, body: (await response.json()) as ClaudeWebhookEnvelope };
  }

  /** A request that must succeed: HTTP 200, claude-hub's envelope, one successful result; its data. */
  async ok(payload: { type: string } & Record<string, unknown>): Promise<any> {
    const { status, body } = await this.post(payload);
    expect({ status, success: body.results?.[0]?.success, error: body.results?.[0]?.error }).toEqual({
      status: 200,
      success: true,
      error: undefined,
    });
    expect(ClaudeWebhookEnvelopeSchema.parse(body)).toEqual(body);
    expect(body).toMatchObject({ message: 'Webhook processed', event: payload.type, handlerCount: 1 });
    return body.results[0].data;
  }

  /** mcp_server.py: `session_data = data.get("session", data)`, then `id` or `sessionId`. */
  async createSession(args: Parameters<typeof createSessionBody>[0]): Promise<{ id: string; status: string }> {
    const data = await this.ok(createSessionBody(args));
    const session = data.session ?? data;
    return { id: session.id ?? session.sessionId, status: session.status ?? 'pending' };
  }

  async getSession(sessionId: string): Promise<ClaudeSession> {
    const data = await this.ok({ type: 'session.get', sessionId });
    return ClaudeSessionSchema.parse(data.session);
  }

  /** mcp_server.py wait_for_session: polls session.get until completed or failed, its only stops. */
  async waitForSession(sessionId: string, seen: Set<string> = new Set(), timeoutMs = 60_000): Promise<ClaudeSession> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const session = await this.getSession(sessionId);
      seen.add(session.status);
      if (session.status === 'completed' || session.status === 'failed') return session;
      if (Date.now() > deadline) throw new Error(`session ${sessionId} is still ${session.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('the claude-hub–compatible endpoint POST /api/webhooks/claude', () => {
  let hub: TestStack;
  let client: ClaudeHubClient;

  beforeAll(async () => {
    // claude-hub's repositories are GitHub's (`acme/webapp`): this machine has no network, so the
    // runner fetches them from a local directory of bare repositories instead (HUB_REPOSITORY_REWRITES).
    const github = await makeTempDir('hub-github');
    createBareRepository(join(github, 'acme', 'webapp.git'), { 'README.md': '# webapp\n' });
    createBareRepository(join(github, 'owner', 'repo.git'), { 'README.md': '# repo\n' });
    hub = await startTestStack({
      HUB_LOCAL_REPOSITORY_ROOTS: github,
      HUB_REPOSITORY_REWRITES: `https://github.com/=${github}/`,
    });
    client = new ClaudeHubClient(`${hub.stack.gatewayUrl}/api/webhooks/claude`, hub.stack.apiToken);
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  it('answers 401 without the token or with a wrong one, and creates nothing', async () => {
    const before = (await hub.api.listSessions()).items.length;
    const body = createSessionBody({ sessionType: 'analysis', repository: 'acme/webapp', requirements: 'true' });
    for (const authorization of ['', 'Bearer ', 'Bearer not-the-secret', `Basic ${hub.stack.apiToken}`]) {
      const { status, body: answer } = await client.post(body, authorization);
      expect({ authorization, status }).toEqual({ authorization, status: 401 });
      expect(answer).toMatchObject({ error: 'unauthorized' });
    }
    expect((await hub.api.listSessions()).items.length).toBe(before);
  });

  it('answers 400, in claude-hub\'s envelope, a request of unknown or missing type', async () => {
    const unknown = await client.post({ type: 'session.delete', sessionId: randomUUID() });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      message: 'Webhook processing failed',
      event: 'session.delete',
      handlerCount: 0,
      results: [
        {
          success: false,
          error: 'Unknown request type "session.delete": Hub answers session.create, session.start, session.get, session.list, session.output, orchestrate, orchestration.create',
        },
      ],
    });
    const missing = await client.post({ sessionId: randomUUID() });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ event: 'unknown', handlerCount: 0, results: [{ success: false, error: expect.stringContaining('missing type') }] });
  });

  it('creates a session with a dependency, starts it, and both run: get, output and list answer in claude-hub\'s shapes', async () => {
    const analysis = await client.createSession({
      sessionType: 'analysis',
      repository: 'acme/webapp',
      requirements: 'echo analysing; echo plan > /hub/output/result.md',
      autoStart: false,
      timeoutMinutes: 60,
    });
    expect(analysis).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'pending' });

    const implementation = await client.createSession({
      sessionType: 'implementation',
      repository: 'acme/webapp',
      branch: 'feature/x',
      // The context travels apart from the prompt (/hub/context): the test agent still runs the requirements as they are.
      requirements: '(cat /hub/inputs/*/result.md "$HUB_CONTEXT_FILE"; echo; echo built) > /hub/output/result.md; echo "Summary: built it"; echo "Next step: review"',
      context: 'The plan is in the analysis output.',
      dependencies: [analysis.id, 'none', ''],
      autoStart: false,
    });
    expect(implementation.status).toBe('pending');

    const pending = await client.ok({ type: 'session.output', sessionId: implementation.id });
    expect(pending).toEqual({
      sessionId: implementation.id,
      status: 'pending',
      output: { logs: [], artifacts: [], summary: 'Session has no output yet: it is pending', nextSteps: [] },
    });

    // Starting the dependent starts its dependency (Hub); claude-hub's answer says what it waits for.
    const started = await client.post({ type: 'session.start', sessionId: implementation.id });
    expect(started.status).toBe(200);
    expect(started.body.results[0]).toMatchObject({
      success: true,
      message: 'Session queued, waiting for dependencies',
      data: { session: { id: implementation.id, status: 'queued', dependencies: [analysis.id] }, waitingFor: [analysis.id] },
    });

    const seen = new Set<string>();
    const done = await client.waitForSession(implementation.id, seen);
    expect([...seen].every((status) => (CLAUDE_SESSION_STATUSES as readonly string[]).includes(status))).toBe(true);
    expect(done).toMatchObject({
      id: implementation.id,
      type: 'implementation',
      status: 'completed',
      project: { repository: 'acme/webapp', branch: 'feature/x' },
      dependencies: [analysis.id],
      claudeSessionId: null,
      error: null,
    });
    expect(done.startedAt).not.toBeNull();
    expect(done.completedAt).not.toBeNull();
    expect((await client.getSession(analysis.id)).status).toBe('completed');

    const output = await client.ok({ type: 'session.output', sessionId: implementation.id });
    expect(output).toMatchObject({ sessionId: implementation.id, status: 'completed' });
    expect(ClaudeSessionOutputSchema.parse(output.output)).toEqual({
      logs: ['Summary: built it', 'Next step: review'],
      artifacts: [
        {
          type: 'file',
          path: 'result.md',
          content: 'plan\nThe plan is in the analysis output.\nbuilt\n',
          url: `/api/v1/sessions/${implementation.id}/output/files/result.md`,
          metadata: { size: 47, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        },
      ],
      summary: 'built it',
      nextSteps: ['review'],
    });

    // Without an orchestration id: every session (mcp-claude-hub's list_sessions sends none).
    const all = await client.ok({ type: 'session.list' });
    const ids = all.sessions.map((s: ClaudeSession) => s.id);
    expect(ids).toEqual(expect.arrayContaining([analysis.id, implementation.id]));
    for (const session of all.sessions) expect(ClaudeSessionSchema.parse(session)).toEqual(session);

    // The dependent joined its dependency's orchestration: listing it gives both, oldest first.
    const inOrchestration = await client.ok({ type: 'session.list', orchestrationId: done.orchestrationId });
    expect(inOrchestration.sessions.map((s: ClaudeSession) => s.id)).toEqual([analysis.id, implementation.id]);

    // mcp_server.py's list_sessions sends its status filter too.
    const completed = await client.ok({ type: 'session.list', status: 'completed' });
    expect(completed.sessions.map((s: ClaudeSession) => s.id)).toEqual(expect.arrayContaining([analysis.id, implementation.id]));
    const running = await client.ok({ type: 'session.list', status: 'running' });
    expect(running.sessions.map((s: ClaudeSession) => s.id)).not.toContain(implementation.id);
  });

  it('runs a session created with autoStart (mcp-claude-hub\'s default) without a start', async () => {
    const created = await client.createSession({ sessionType: 'review', repository: 'acme/webapp', requirements: 'echo reviewed' });
    expect(created.status).toBe('queued');
    const done = await client.waitForSession(created.id);
    expect(done.status).toBe('completed');
    const output = await client.ok({ type: 'session.output', sessionId: created.id });
    expect(output.output).toEqual({ logs: ['reviewed'], artifacts: [], summary: 'Session completed with 0 output files', nextSteps: [] });

    const again = await client.post({ type: 'session.start', sessionId: created.id });
    expect(again.status).toBe(207);
    expect(again.body).toEqual({
      message: 'Webhook processed',
      event: 'session.start',
      handlerCount: 1,
      results: [{ success: false, error: `cannot start session ${created.id}: it already ended completed` }],
    });
  });

  it('ends failed, with the reason in error, for a failure, a timeout and a skipped dependent, so the wait loop stops', async () => {
    const failing = await client.createSession({ sessionType: 'testing', repository: 'acme/webapp', requirements: 'echo broken >&2; exit 3' });
    const dependent = await client.createSession({
      sessionType: 'review',
      repository: 'acme/webapp',
      requirements: 'true',
      dependencies: [failing.id],
    });
    // The timeout in seconds beside the session, as claude-hub's API document puts it.
    const slow = await client.ok({
      type: 'session.create',
      session: { type: 'analysis', project: { repository: 'acme/webapp', requirements: 'sleep 30' } },
      options: { autoStart: true, timeout: 2 },
    });

    const failed = await client.waitForSession(failing.id);
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringMatching(/^failed: exited with code 3/) });
    const skipped = await client.waitForSession(dependent.id);
    expect(skipped).toMatchObject({ status: 'failed', error: expect.stringMatching(/^skipped: .* failed \(exited with code 3\)$/) });
    const timedOut = await client.waitForSession(slow.session.id, new Set(), 20_000);
    expect(timedOut).toMatchObject({ status: 'failed', error: expect.stringMatching(/^timed_out: /) });

    const output = await client.ok({ type: 'session.output', sessionId: failing.id });
    expect(output.status).toBe('failed');
    expect(output.output.logs).toEqual(['broken']);
    expect(output.output.summary).toBe(`Session failed: ${failed.error}`);
  });

  it('answers orchestrate with an orchestration of one coordination session that runs', async () => {
    const data = await client.ok({
      type: 'orchestrate',
      project: { repository: 'owner/repo', requirements: 'echo orchestrated > /hub/output/result.md' },
    });
    expect(data).toMatchObject({
      orchestrationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'initiated',
      summary: 'Created orchestration session for owner/repo',
      sessions: [{ type: 'coordination', project: { repository: 'owner/repo' }, dependencies: [] }],
    });
    const [session] = data.sessions as ClaudeSession[];
    expect(session.orchestrationId).toBe(data.orchestrationId);

    const done = await client.waitForSession(session.id);
    expect(done.status).toBe('completed');
    const listed = await client.ok({ type: 'session.list', orchestrationId: data.orchestrationId });
    expect(listed.sessions.map((s: ClaudeSession) => s.id)).toEqual([session.id]);
    const output = await client.ok({ type: 'session.output', sessionId: session.id });
    expect(output.output.summary).toBe('orchestrated');

    const notStarted = await client.ok({ type: 'orchestrate', autoStart: false, sessionType: 'analysis', project: { repository: 'o/r', requirements: 'true' } });
    expect(notStarted.sessions).toMatchObject([{ type: 'analysis', status: 'pending' }]);

    // The client repository's monitor script says `orchestration.create` for the same request.
    const monitor = await client.post({ type: 'orchestration.create', project: { repository: 'o/r', requirements: 'true' } });
    expect(monitor.status).toBe(200);
    expect(monitor.body).toMatchObject({ event: 'orchestration.create', results: [{ success: true, data: { status: 'initiated' } }] });
  });

  it('reports what Hub refuses as a failed result: unknown sessions, bad fields, dependencies in two orchestrations', async () => {
    const unknownId = randomUUID();
    const unknown = await client.post({ type: 'session.get', sessionId: unknownId });
    expect(unknown.status).toBe(207);
    expect(unknown.body.results).toEqual([{ success: false, error: `session ${unknownId} does not exist` }]);

    const noRepository = await client.post({ type: 'session.create', session: { type: 'analysis', project: { requirements: 'x' } } });
    expect(noRepository.status).toBe(207);
    expect(noRepository.body.results[0]).toEqual({
      success: false,
      error: 'Invalid session.create request: session.project.repository: is required',
    });

    const missingDependency = await client.post(
      createSessionBody({ sessionType: 'review', repository: 'a/b', requirements: 'true', dependencies: [unknownId] }),
    );
    expect(missingDependency.body.results[0]).toEqual({
      success: false,
      error: `dependsOn names sessions that do not exist: ${unknownId}`,
    });

    const a = await client.createSession({ sessionType: 'analysis', repository: 'a/b', requirements: 'true', autoStart: false });
    const b = await client.createSession({ sessionType: 'analysis', repository: 'a/b', requirements: 'true', autoStart: false });
    const both = await client.post(createSessionBody({ sessionType: 'review', repository: 'a/b', requirements: 'true', dependencies: [a.id, b.id] }));
    expect(both.status).toBe(207);
    expect(both.body.results[0]).toMatchObject({
      success: false,
      // The registry's refusal (CreateSession), naming each dependency's orchestration.
      error: expect.stringMatching(new RegExp(`^dependsOn names sessions of 2 different orchestrations: ${a.id} \\(orchestration [0-9a-f-]{36}\\); ${b.id} \\(orchestration`)),
    });
  });
});
