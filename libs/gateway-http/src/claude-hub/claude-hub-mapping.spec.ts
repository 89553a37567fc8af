import { randomUUID } from 'node:crypto';
import { SESSION_STATUSES, SessionView } from '@hub/contracts';
import {
  CLAUDE_STATUS_OF,
  claudeErrorOf,
  claudeRepositoryOf,
  hubRepositoryOf,
  parseClaudeWebhookRequest,
  pendingClaudeOutput,
  processed,
  rejected,
  toClaudeOutput,
  toClaudeSession,
  toCreateOrchestrationRequest,
  toCreateSessionRequest,
  waitingForOf,
} from './claude-hub-mapping';
import { buildSessionView } from '@hub/testing';
import { ClaudeRequestOf, ClaudeSessionSchema, ClaudeSessionStatusSchema, ClaudeWebhookEnvelopeSchema } from './claude-hub.schemas';

const sessionView = (overrides: Partial<SessionView> = {}): SessionView =>
  buildSessionView({ repository: 'https://github.com/acme/webapp.git', createdAt: '2025-06-01T10:00:00.000Z', ...overrides });

function parsed<T extends 'session.create' | 'orchestrate'>(body: unknown): ClaudeRequestOf<T> {
  const result = parseClaudeWebhookRequest(body);
  if (!result.ok) throw new Error(result.error);
  return result.request as ClaudeRequestOf<T>;
}

/** The body mcp-claude-hub's create_session builds (mcp_server.py), with its defaults. */
const mcpCreateBody = (dependencies: string[] = []) => ({
  type: 'session.create',
  session: {
    type: 'analysis',
    project: { repository: 'acme/webapp', requirements: 'echo hello > /hub/output/result.md', branch: 'main' },
    dependencies,
    options: { autoStart: true, timeout: 3600 },
  },
});

describe('parseClaudeWebhookRequest', () => {
  it('takes every request mcp-claude-hub sends', () => {
    const id = randomUUID();
    for (const body of [
      mcpCreateBody([id]),
      { type: 'session.start', sessionId: id },
      { type: 'session.get', sessionId: id },
      { type: 'session.output', sessionId: id },
      { type: 'session.list' },
      { type: 'session.list', status: 'running' },
      { type: 'session.list', orchestrationId: id },
      { type: 'orchestrate', project: { repository: 'owner/repo', requirements: 'Build API' }, autoStart: false },
    ]) {
      expect(parseClaudeWebhookRequest(body)).toMatchObject({ ok: true, request: { type: body.type } });
    }
  });

  it('takes the older client (mcp_server_fixed.py): context "" and no options', () => {
    const request = parsed<'session.create'>({
      type: 'session.create',
      session: { type: 'testing', project: { repository: 'a/b', requirements: 'x', context: '' }, dependencies: [] },
    });
    expect(request.session.project.context).toBeUndefined();
    expect(toCreateSessionRequest(request)).toEqual({ type: 'testing', prompt: 'x', repository: 'https://github.com/a/b.git', start: false });
  });

  it('takes a request wrapped in { data } as claude-hub docs/claude-orchestration.md shows it', () => {
    expect(parseClaudeWebhookRequest({ data: { type: 'session.list' } })).toMatchObject({ ok: true, request: { type: 'session.list' } });
  });

  it('drops "", blanks and "none" from dependencies, as claude-hub SessionHandler does', () => {
    const id = randomUUID();
    const request = parsed<'session.create'>(mcpCreateBody(['', ' ', 'None', id]));
    expect(request.session.dependencies).toEqual([id]);
  });

  it('answers 400 for a missing or unknown type', () => {
    expect(parseClaudeWebhookRequest({ sessionId: 'x' })).toEqual({
      ok: false,
      httpStatus: 400,
      event: 'unknown',
      error: expect.stringMatching(/^Invalid payload: missing type field; send one of: session\.create, /),
    });
    expect(parseClaudeWebhookRequest([1])).toMatchObject({ ok: false, httpStatus: 400 });
    expect(parseClaudeWebhookRequest(undefined)).toMatchObject({ ok: false, httpStatus: 400 });
    for (const type of ['session.delete', 'coordinate', 'session']) {
      expect(parseClaudeWebhookRequest({ type })).toEqual({
        ok: false,
        httpStatus: 400,
        event: type,
        error: `Unknown request type "${type}": Hub answers session.create, session.start, session.get, session.list, session.output, orchestrate, orchestration.create`,
      });
    }
  });

  it('answers a known request with bad fields as a failed result (207), naming each field', () => {
    const cases: [unknown, RegExp][] = [
      [{ type: 'session.create' }, /^Invalid session\.create request: session: /],
      [{ type: 'session.create', session: { project: { repository: ' ', requirements: 'x' } } }, /session\.project\.repository: Repository is required/],
      [{ type: 'session.create', session: { project: { repository: 'a/b' } } }, /session\.project\.requirements: is required/],
      [{ type: 'session.create', session: { type: 'deploy', project: { repository: 'a/b', requirements: 'x' } } }, /session\.type: /],
      [mcpCreateBody(['not-a-uuid']), /session\.dependencies\.0: must be a session id/],
      [{ ...mcpCreateBody(), session: { ...mcpCreateBody().session, id: 'mine' } }, /session\.id: Hub assigns session ids/],
      [{ type: 'session.get', sessionId: 'abc' }, /^Invalid session\.get request: sessionId: must be a session id \(a UUID\)$/],
      [{ type: 'session.start' }, /sessionId: is required/],
      [{ type: 'session.list', orchestrationId: 'x' }, /orchestrationId: must be an orchestration id/],
      [{ type: 'session.list', status: 'sleeping' }, /status: /],
      [{ type: 'orchestrate', project: { repository: 'a/b' } }, /project\.requirements: is required/],
    ];
    for (const [body, error] of cases) {
      const result = parseClaudeWebhookRequest(body);
      expect(result).toMatchObject({ ok: false, httpStatus: 207, event: (body as { type: string }).type });
      expect(result.ok ? '' : result.error).toMatch(error);
    }
  });
});

describe('their request → ours', () => {
  it('maps session.create: requirements (+ context) → prompt, repository, branch, dependencies, options; the registry picks the orchestration', () => {
    const dependency = randomUUID();
    const body = mcpCreateBody([dependency]);
    body.session.project = { ...body.session.project, context: 'Use the existing model' } as typeof body.session.project;
    expect(toCreateSessionRequest(parsed(body))).toEqual({
      type: 'analysis',
      prompt: 'echo hello > /hub/output/result.md',
      context: 'Use the existing model',
      repository: 'https://github.com/acme/webapp.git',
      branch: 'main',
      dependsOn: [dependency],
      timeoutSeconds: 3600,
      start: true,
    });
  });

  it("takes the monitor script's orchestration.create as claude-hub's orchestrate", () => {
    const body = { type: 'orchestration.create', project: { repository: 'acme/webapp', requirements: 'plan it', context: 'the API is v2' } };
    const parsedBody = parseClaudeWebhookRequest(body);
    if (!parsedBody.ok) throw new Error(parsedBody.error);
    expect(toCreateOrchestrationRequest(parsedBody.request as ClaudeRequestOf<'orchestration.create'>).sessions).toEqual([
      expect.objectContaining({ name: 'orchestrator', type: 'coordination', prompt: 'plan it', context: 'the API is v2' }),
    ]);
  });

  it('takes options beside the session too (claude-hub API document); the session\'s win', () => {
    const body = { ...mcpCreateBody(), options: { autoStart: true, timeout: 60 } };
    delete (body.session as { options?: unknown }).options;
    expect(toCreateSessionRequest(parsed(body))).toMatchObject({ start: true, timeoutSeconds: 60 });
    const both = { ...mcpCreateBody(), options: { autoStart: true, timeout: 60 } };
    both.session.options = { autoStart: false, timeout: 120 };
    expect(toCreateSessionRequest(parsed(both))).toMatchObject({ start: false, timeoutSeconds: 120 });
  });

  it('defaults the type to implementation and does not start without autoStart (claude-hub defaults)', () => {
    const request = parsed<'session.create'>({ type: 'session.create', session: { project: { repository: 'a/b', requirements: 'x' } } });
    expect(toCreateSessionRequest(request)).toEqual({ type: 'implementation', prompt: 'x', repository: 'https://github.com/a/b.git', start: false });
  });

  it('reads owner/repo as a GitHub repository, and gives it back as owner/repo', () => {
    expect(hubRepositoryOf('acme/webapp')).toBe('https://github.com/acme/webapp.git');
    expect(hubRepositoryOf('acme/web.app_2')).toBe('https://github.com/acme/web.app_2.git');
    for (const other of ['https://gitlab.com/a/b.git', '/srv/git/repo.git', 'file:///srv/git/r', 'a/..', './x', 'a/b/c']) {
      expect(hubRepositoryOf(other)).toBe(other);
    }
    expect(claudeRepositoryOf('https://github.com/acme/webapp.git')).toBe('acme/webapp');
    expect(claudeRepositoryOf('/srv/git/repo.git')).toBe('/srv/git/repo.git');
    expect(claudeRepositoryOf(null)).toBe('');
  });

  it('maps orchestrate onto an orchestration of one session, started unless autoStart is false', () => {
    const request = parsed<'orchestrate'>({
      type: 'orchestrate',
      project: { repository: 'owner/repo', requirements: 'Build a REST API', branch: 'dev' },
      strategy: { parallelSessions: 3, timeout: 90_500 },
    });
    expect(toCreateOrchestrationRequest(request)).toEqual({
      name: 'claude-hub orchestrate owner/repo',
      sessions: [
        {
          name: 'orchestrator',
          type: 'coordination',
          prompt: 'Build a REST API',
          repository: 'https://github.com/owner/repo.git',
          branch: 'dev',
          timeoutSeconds: 91,
          dependsOn: [],
        },
      ],
      start: true,
      maxParallel: 3,
    });
    const analysis = parsed<'orchestrate'>({ type: 'orchestrate', sessionType: 'analysis', autoStart: false, project: { repository: 'o/r', requirements: 'x' } });
    expect(toCreateOrchestrationRequest(analysis)).toMatchObject({ sessions: [{ type: 'analysis' }], start: false });
  });
});

describe('our answer → theirs', () => {
  it('maps every Hub status onto one claude-hub knows', () => {
    expect(CLAUDE_STATUS_OF).toEqual({
      created: 'pending',
      waiting: 'queued',
      ready: 'queued',
      starting: 'initializing',
      running: 'running',
      completed: 'completed',
      failed: 'failed',
      timed_out: 'failed',
      skipped: 'failed',
      cancelled: 'cancelled',
    });
    for (const status of SESSION_STATUSES) expect(ClaudeSessionStatusSchema.safeParse(CLAUDE_STATUS_OF[status]).success).toBe(true);
  });

  it('says in error why a session ended without completing, naming Hub\'s own status', () => {
    expect(claudeErrorOf({ status: 'running', statusReason: 'container abc started' })).toBeNull();
    expect(claudeErrorOf({ status: 'completed', statusReason: 'exited with code 0' })).toBeNull();
    expect(claudeErrorOf({ status: 'failed', statusReason: 'exited with code 3' })).toBe('failed: exited with code 3');
    expect(claudeErrorOf({ status: 'timed_out', statusReason: 'timed_out: exceeded its time limit of 2 s' })).toBe(
      'timed_out: exceeded its time limit of 2 s',
    );
    expect(claudeErrorOf({ status: 'skipped', statusReason: 'dependency analysis ended failed' })).toBe(
      'skipped: dependency analysis ended failed',
    );
    expect(claudeErrorOf({ status: 'cancelled', statusReason: 'cancelled on request' })).toBe('cancelled on request');
    expect(claudeErrorOf({ status: 'failed', statusReason: null })).toBe('failed: no reason recorded');
  });

  it('maps a session onto claude-hub\'s session fields', () => {
    const dependency = randomUUID();
    const view = sessionView({
      status: 'running',
      branch: 'main',
      containerId: 'c0ffee',
      dependsOn: [dependency],
      startedAt: '2025-06-01T10:00:01.000Z',
    });
    const session = toClaudeSession(view);
    expect(session).toEqual({
      id: view.id,
      type: 'implementation',
      status: 'running',
      containerId: 'c0ffee',
      claudeSessionId: null,
      project: { repository: 'acme/webapp', branch: 'main' },
      dependencies: [dependency],
      orchestrationId: view.orchestrationId,
      createdAt: view.createdAt,
      startedAt: '2025-06-01T10:00:01.000Z',
      completedAt: null,
      output: null,
      error: null,
    });
    expect(ClaudeSessionSchema.parse(session)).toEqual(session);
    const skipped = toClaudeSession(sessionView({ status: 'skipped', statusReason: 'dependency a ended failed', finishedAt: 'x' }));
    expect(skipped).toMatchObject({ status: 'failed', error: 'skipped: dependency a ended failed', completedAt: 'x' });
  });

  it('lists the dependencies a start still waits for', () => {
    expect(
      waitingForOf([
        { sessionId: 'a', status: 'completed' },
        { sessionId: 'b', status: 'running' },
        { sessionId: 'c', status: 'created' },
      ]),
    ).toEqual(['b', 'c']);
  });

  it('builds session.output from the log and the output files, with claude-hub\'s markers', () => {
    const view = sessionView({ status: 'completed', statusReason: 'exited with code 0', exitCode: 0 });
    const files = [
      { path: 'result.md', size: 6, sha256: 'a'.repeat(64) },
      { path: 'dir/out put.bin', size: 3, sha256: 'b'.repeat(64) },
    ];
    const log = 'starting\n\nCreated file: src/auth.js\r\nCommitted: abc123\nSummary: added auth\nNext step: add tests\n';
    expect(toClaudeOutput({ session: view, files, log, texts: { 'result.md': 'hello\n' } })).toEqual({
      logs: ['starting', 'Created file: src/auth.js', 'Committed: abc123', 'Summary: added auth', 'Next step: add tests'],
      artifacts: [
        { type: 'file', path: 'src/auth.js' },
        { type: 'commit', sha: 'abc123' },
        {
          type: 'file',
          path: 'result.md',
          content: 'hello\n',
          url: `/api/v1/sessions/${view.id}/output/files/result.md`,
          metadata: { size: 6, sha256: 'a'.repeat(64) },
        },
        {
          type: 'file',
          path: 'dir/out put.bin',
          url: `/api/v1/sessions/${view.id}/output/files/dir/out%20put.bin`,
          metadata: { size: 3, sha256: 'b'.repeat(64) },
        },
      ],
      summary: 'added auth',
      nextSteps: ['add tests'],
    });
  });

  it('lists what a session changed in its git workspace as a commit artifact, with its branch, counts and the diff URL', () => {
    const changes = { branch: 'hub/flow/impl', baseCommit: 'b'.repeat(40), headCommit: 'c'.repeat(40), files: 2, added: 5, removed: 1 };
    const view = sessionView({ status: 'completed', changes });
    const output = toClaudeOutput({ session: view, files: [], log: null, texts: {} });
    expect(output.artifacts).toEqual([
      {
        type: 'commit',
        sha: 'c'.repeat(40),
        url: `/api/v1/sessions/${view.id}/changes`,
        metadata: { branch: 'hub/flow/impl', baseCommit: 'b'.repeat(40), files: 2, added: 5, removed: 1 },
      },
    ]);
  });

  it('summarises with result.md, else with how the session ended', () => {
    const completed = sessionView({ status: 'completed' });
    const file = { path: 'result.md', size: 6, sha256: 'a'.repeat(64) };
    expect(toClaudeOutput({ session: completed, files: [file], log: 'x', texts: { 'result.md': ' hello\n' } }).summary).toBe('hello');
    expect(toClaudeOutput({ session: completed, files: [file], log: null, texts: {} }).summary).toBe(
      'Session completed with 1 output file: result.md',
    );
    expect(toClaudeOutput({ session: completed, files: [], log: null, texts: {} }).summary).toBe('Session completed with 0 output files');
    const timedOut = sessionView({ status: 'timed_out', statusReason: 'timed_out: exceeded its time limit' });
    expect(toClaudeOutput({ session: timedOut, files: [], log: null, texts: {} })).toEqual({
      logs: [],
      artifacts: [],
      summary: 'Session failed: timed_out: exceeded its time limit',
      nextSteps: [],
    });
    expect(pendingClaudeOutput(sessionView({ status: 'waiting' }))).toEqual({
      logs: [],
      artifacts: [],
      summary: 'Session has no output yet: it is queued',
      nextSteps: [],
    });
  });

  it('wraps results in claude-hub\'s envelope', () => {
    const ok = processed('session.get', { success: true, data: { session: {} } });
    expect(ok).toEqual({ message: 'Webhook processed', event: 'session.get', handlerCount: 1, results: [{ success: true, data: { session: {} } }] });
    expect(ClaudeWebhookEnvelopeSchema.parse(ok)).toEqual(ok);
    expect(rejected('bad', 'why')).toEqual({
      message: 'Webhook processing failed',
      event: 'bad',
      handlerCount: 0,
      results: [{ success: false, error: 'why' }],
    });
  });
});
