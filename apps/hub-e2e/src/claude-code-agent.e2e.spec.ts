import { spawnSync, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { makeTempDir } from '@hub/infra';
import type { SessionView, Usage } from '@hub/contracts';
import {
  assistantText,
  FAKE_ANSWER,
  lastUserText,
  RATE_LIMIT_MESSAGE,
  startFakeAnthropicApi,
  userText,
  type FakeAnthropicApi,
} from './support/fake-anthropic-api';
import { startTestStack, type TestStack } from './support/test-stack';

// The Claude Code agent image, built offline from this machine's node, git and the npm package,
// running its real entrypoint and the real `claude` CLI in Hub's hardened containers (network none):
// without a key, without any destination, and through Hub's egress proxy to a local fake of the
// Anthropic API, where sessions complete, report what they spent, wait out a rate limit and continue
// a conversation. No real key, no outside network: the real API is never reached.

const WORKSPACE_ROOT = resolve(__dirname, '../../..');
const IMAGE = 'hub/claude-code:latest';

/** The Claude Code version the image pins (the Dockerfile's ARG, which build-offline.sh reads too). */
async function pinnedVersion(): Promise<string> {
  const dockerfile = await readFile(join(WORKSPACE_ROOT, 'images/claude-code/Dockerfile'), 'utf8');
  const version = /^ARG CLAUDE_CODE_VERSION=(\S+)$/m.exec(dockerfile)?.[1];
  if (!version) throw new Error('images/claude-code/Dockerfile has no ARG CLAUDE_CODE_VERSION=');
  return version;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=hub-e2e', '-c', 'user.email=hub-e2e@hub.invalid', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/**
 * A runner id of this stack's own: a runner removes containers labelled with its id that it does not
 * know, so another Hub on this machine with the default id (runner-<hostname>) would remove ours.
 */
const ownRunnerId = () => `e2e-claude-code-${randomBytes(4).toString('hex')}`;

const logsOf = async (hub: TestStack, id: string, attempt?: number) =>
  (await hub.api.request('GET', `/api/v1/sessions/${id}/logs${attempt ? `?attempt=${attempt}` : ''}`)).text;
const outputFile = async (hub: TestStack, id: string, path: string) => (await hub.api.request('GET', `/api/v1/sessions/${id}/output/files/${path}`)).text;

const outputFiles = async (hub: TestStack, id: string) =>
  (await hub.api.request<{ files: { path: string }[] }>('GET', `/api/v1/sessions/${id}/output`)).body.files.map((f) => f.path).sort();

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Polls `read` until `done` holds of what it returns. */
async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The key reached the container, but shows nowhere: not in these texts (log, reason, outputs) nor the services' logs. */
async function expectKeyNowhere(hub: TestStack, key: string, texts: Record<string, string>): Promise<void> {
  for (const [where, text] of Object.entries(texts)) {
    expect({ where, leaks: text.includes(key) }).toEqual({ where, leaks: false });
  }
  for (const file of await readdir(hub.stack.logDir)) {
    const text = await readFile(join(hub.stack.logDir, file), 'utf8');
    expect({ file, leaks: text.includes(key) }).toEqual({ file, leaks: false });
  }
}

describe('the Claude Code agent image (hub/claude-code, built offline)', () => {
  beforeAll(() => {
    // The first build fetches Claude Code from the npm registry (~190 MB) and imports ~550 MB;
    // afterwards it is a no-op unless an input changed.
    const build = spawnSync('bash', [join(WORKSPACE_ROOT, 'images/claude-code/build-offline.sh')], {
      cwd: WORKSPACE_ROOT,
      encoding: 'utf8',
      timeout: 900_000,
    });
    if (build.status !== 0) {
      throw new Error(`images/claude-code/build-offline.sh failed (${build.status ?? build.signal}):\n${build.stdout}\n${build.stderr}`);
    }
  }, 900_000);

  describe('on a runner without an Anthropic API key', () => {
    let hub: TestStack;

    beforeAll(async () => {
      // Empty values override anything the developer's environment holds: no key at all.
      hub = await startTestStack({ HUB_RUNNER_ID: ownRunnerId(), HUB_SECRET_ANTHROPIC_API_KEY: '', HUB_SECRETS_FILE: '' });
    }, 180_000);

    afterAll(async () => {
      await hub?.stop();
    });

    it('fails the session within seconds, with a reason naming the missing key', async () => {
      const askedAt = Date.now();
      const session = await hub.api.createSession({
        type: 'implementation',
        image: IMAGE,
        prompt: 'Add a README to the project.',
        start: true,
      });
      const done = await hub.api.waitForStatus(session.id, ['failed'], 30_000);
      const elapsedMs = Date.now() - askedAt;

      expect(done.exitCode).toBe(78);
      expect(done.statusReason).toContain('ANTHROPIC_API_KEY is not set');
      expect(done.statusReason).toContain('HUB_SECRET_ANTHROPIC_API_KEY');
      expect(elapsedMs).toBeLessThan(10_000);
      // It stopped before anything slow: no clone, no claude run.
      const log = await logsOf(hub, session.id);
      expect(log).not.toContain('running claude');
    });
  });

  describe('on a runner with a (fake) key, given a local repository', () => {
    const fakeKey = `sk-ant-fake-${randomBytes(20).toString('hex')}`;
    let hub: TestStack;
    let repositories: string;
    let commit: string;

    beforeAll(async () => {
      // A bare repository with one commit, under a root the runner may mount from.
      repositories = await makeTempDir('hub-claude-code-repos');
      const work = join(repositories, 'work');
      execFileSync('git', ['init', '--quiet', '-b', 'main', work]);
      await writeFile(join(work, 'README.md'), '# Tutorial project\n\nA Python tutorial, chapter by chapter.\n');
      git(work, 'add', 'README.md');
      git(work, 'commit', '--quiet', '-m', 'Start the tutorial');
      commit = git(work, 'rev-parse', 'HEAD');
      git(repositories, 'clone', '--quiet', '--bare', work, join(repositories, 'project.git'));

      hub = await startTestStack({
        HUB_RUNNER_ID: ownRunnerId(),
        HUB_SECRET_ANTHROPIC_API_KEY: fakeKey,
        HUB_SECRETS_FILE: '',
        HUB_LOCAL_REPOSITORY_ROOTS: repositories,
        // No destination at all (not even through the egress proxy, which would resolve
        // api.anthropic.com): the image's no-network path. Claude Code against a local fake of the
        // API, through the proxy, is the next test.
        HUB_EGRESS: 'none',
      });
    }, 180_000);

    afterAll(async () => {
      await hub?.stop();
      if (repositories && !process.env['HUB_E2E_KEEP']) await rm(repositories, { recursive: true, force: true });
    });

    it('works in the /workspace Hub prepared from the repository, runs the real claude CLI, and fails saying why; the key never shows', async () => {
      const version = await pinnedVersion();
      // A dependency whose output becomes this session's input.
      const notes = await hub.api.createSession({
        name: 'notes',
        type: 'analysis',
        prompt: 'echo "Chapter 1 covers variables." > /hub/output/notes.md',
        start: true,
      });
      expect((await hub.api.waitForStatus(notes.id, ['completed'])).status).toBe('completed');

      const session = await hub.api.createSession({
        type: 'review',
        image: IMAGE,
        repository: join(repositories, 'project.git'),
        branch: 'main',
        orchestrationId: notes.orchestrationId,
        dependsOn: [notes.id],
        prompt: 'Review the README against the notes.',
        timeoutSeconds: 180,
        start: true,
      });
      // Offline, claude gives up after its start-up fetches fail (about 20 s); retries are off
      // because the entrypoint sees the container may reach nothing (no interface but lo, no proxy).
      const done = await hub.api.waitForStatus(session.id, ['failed'], 120_000);
      const log = await logsOf(hub, session.id);

      // The real CLI, at the pinned version, ran in the image.
      expect(log).toContain(`hub-claude-code: Claude Code ${version} (Claude Code)`);
      // /workspace holds the repository Hub prepared, at the commit made above.
      const prepared = /hub-claude-code: workspace prepared by Hub from local at main \(([0-9a-f]{7,})\)/.exec(log);
      expect(prepared).not.toBeNull();
      expect(commit.startsWith(prepared![1]!)).toBe(true);
      expect(log).toContain('hub-claude-code: /workspace: README.md');
      // The prompt carried the type's preamble and the dependency's output.
      expect(log).toContain('with the review preamble');
      expect(log).toContain('inputs: notes (1 file)');
      expect(log).toContain('hub-claude-code: running claude -p in /workspace');

      // claude failed (no network), and the reason says so.
      expect(done.exitCode).toBe(1);
      expect(done.statusReason).toContain('hub-claude-code: Claude Code failed');
      expect(done.statusReason).toContain('API Error');
      expect(done.statusReason).toContain('no network');

      // Its structured result, its answer and what it spent (nothing: no call got through, and no
      // rate limit) are the session's output, with the conversation as far as it went.
      const files = await outputFiles(hub, session.id);
      expect(files.filter((path) => !path.startsWith('conversation/'))).toEqual(['result.json', 'result.md', 'usage.json']);
      const resultJson = await outputFile(hub, session.id, 'result.json');
      const result = JSON.parse(resultJson);
      expect(result).toMatchObject({ type: 'result', is_error: true });
      const resultMd = await outputFile(hub, session.id, 'result.md');
      expect(resultMd).toContain('API Error');
      const usage = JSON.parse(await outputFile(hub, session.id, 'usage.json'));
      expect(usage).toMatchObject({ tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 } });
      expect(usage).not.toHaveProperty('rateLimit');

      // The key reached the container (it got past the key check) but shows nowhere.
      await expectKeyNowhere(hub, fakeKey, { log, reason: done.statusReason ?? '', resultJson, resultMd });
    }, 150_000);
  });

  describe('through Hub’s egress proxy, against a local fake of the Anthropic API', () => {
    const fakeKey = `sk-ant-test-${randomBytes(20).toString('hex')}`;
    /** What the fake says every answer used, so that each session's usage is known exactly. */
    const PER_ANSWER = { input_tokens: 1200, output_tokens: 345, cache_read_input_tokens: 6789, cache_creation_input_tokens: 101 };
    /** A prompt with this asks the fake for a change: it answers with a call of Claude Code's Write tool. */
    const WRITE_NOTES = 'WRITE-THE-NOTES';
    const NOTES = 'Chapter 2 covers functions.\n';
    let fake: FakeAnthropicApi;
    let hub: TestStack;
    let repositories: string;

    /** The Messages requests that carried `prompt` (each turn of a session resends it) and were answered. */
    const answeredFor = (prompt: string) => fake.messages().filter(({ body, status }) => status === 200 && userText(body).includes(prompt));
    /** The tokens of `answers` answers of the fake, as usage.json reports them. */
    const reportedTokens = (answers: number) => ({
      input: PER_ANSWER.input_tokens * answers,
      output: PER_ANSWER.output_tokens * answers,
      cacheRead: PER_ANSWER.cache_read_input_tokens * answers,
      cacheWrite: PER_ANSWER.cache_creation_input_tokens * answers,
    });
    /** The same as Hub shows them (Usage: with their total). */
    const tokensOf = (answers: number): Usage['tokens'] => {
      const tokens = reportedTokens(answers);
      return { ...tokens, total: tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite };
    };

    beforeAll(async () => {
      fake = await startFakeAnthropicApi({
        usage: PER_ANSWER,
        reply: (body) =>
          lastUserText(body).includes(WRITE_NOTES)
            ? { toolUse: { name: 'Write', input: { file_path: '/workspace/NOTES.md', content: NOTES } } }
            : { text: FAKE_ANSWER },
      });
      // A bare repository for the session that changes its workspace and the one that continues it.
      repositories = await makeTempDir('hub-claude-code-repos');
      const work = join(repositories, 'work');
      execFileSync('git', ['init', '--quiet', '-b', 'main', work]);
      await writeFile(join(work, 'README.md'), '# Tutorial project\n');
      git(work, 'add', 'README.md');
      git(work, 'commit', '--quiet', '-m', 'Start the tutorial');
      git(repositories, 'clone', '--quiet', '--bare', work, join(repositories, 'project.git'));
      hub = await startTestStack({
        HUB_RUNNER_ID: ownRunnerId(),
        HUB_SECRET_ANTHROPIC_API_KEY: fakeKey,
        HUB_SECRETS_FILE: '',
        HUB_LOCAL_REPOSITORY_ROOTS: repositories,
        // Claude Code speaks plain HTTP to api.anthropic.com:80 (its HTTPS_PROXY/HTTP_PROXY are Hub's
        // proxy); the proxy lets only that through, and connects it to the fake on loopback. It does
        // not retry a refused request itself (CLAUDE_CODE_MAX_RETRIES=0): a 429 ends its run, and Hub
        // runs it again after the runner's wait (5 s: the pinned CLI does not say when a limit resets).
        HUB_IMAGE_ENV: 'hub/claude-code*=ANTHROPIC_BASE_URL=http://api.anthropic.com:80;hub/claude-code*=CLAUDE_CODE_MAX_RETRIES=0',
        HUB_EGRESS: 'hub/claude-code*=api.anthropic.com:80',
        HUB_EGRESS_RESOLVE: `api.anthropic.com=127.0.0.1:${fake.port}`,
        HUB_RATE_LIMIT_WAIT_SECONDS: '5',
      });
    }, 180_000);

    afterAll(async () => {
      await hub?.stop();
      await fake?.close();
      if (repositories && !process.env['HUB_E2E_KEEP']) await rm(repositories, { recursive: true, force: true });
    });

    it('runs the real claude CLI to completion: the fake’s answer is the output, the prompt and the key reached the API, the key shows nowhere', async () => {
      const prompt = `Summarise the tutorial project in one sentence (${randomBytes(6).toString('hex')}).`;
      const session = await hub.api.createSession({ type: 'analysis', image: IMAGE, prompt, timeoutSeconds: 180, start: true });
      const done = await hub.api.waitForStatus(session.id, undefined, 150_000);
      const log = await logsOf(hub, session.id);
      const asked = `the fake was asked: ${fake.summary().join(', ') || 'nothing'}\n${log}`;

      expect({ status: done.status, reason: done.statusReason, asked }).toMatchObject({ status: 'completed' });
      expect(done.exitCode).toBe(0);
      expect(log).toContain("hub-claude-code: network: through Hub's egress proxy (http://127.0.0.1:3128)");
      expect(log).toContain('hub-claude-code: Claude Code completed: 1 turns');

      // Claude's answer (the fake's), its JSON result, what it spent and its conversation are the session's output.
      const sessionId = (await outputFile(hub, session.id, 'conversation/session-id')).trim();
      expect(sessionId).toMatch(SESSION_ID);
      expect(await outputFiles(hub, session.id)).toEqual([
        `conversation/${sessionId}.jsonl`,
        'conversation/session-id',
        'result.json',
        'result.md',
        'usage.json',
      ]);
      expect(log).toContain(`hub-claude-code: conversation ${sessionId} kept in /hub/output/conversation/`);
      const resultMd = await outputFile(hub, session.id, 'result.md');
      expect(resultMd).toBe(`${FAKE_ANSWER}\n`);
      const resultJson = await outputFile(hub, session.id, 'result.json');
      expect(JSON.parse(resultJson)).toMatchObject({ type: 'result', subtype: 'success', is_error: false, num_turns: 1, result: FAKE_ANSWER, session_id: sessionId });
      const conversation = await outputFile(hub, session.id, `conversation/${sessionId}.jsonl`);
      expect(conversation).toContain(FAKE_ANSWER);

      // The request reached the fake through the proxy, with the prompt and the runner's key.
      const messages = fake.messages().filter(({ body }) => userText(body).includes(prompt));
      expect(messages.length).toBeGreaterThanOrEqual(1);
      expect(messages.map(({ request }) => request.headers['x-api-key'])).toEqual(messages.map(() => fakeKey));
      expect(messages[0]!.request.headers['host']).toBe('api.anthropic.com');

      // The session's egress: the API's plain HTTP port, allowed, with traffic both ways. Anything
      // else Claude Code tried (this version fetches its remote settings from https://api.anthropic.com
      // whatever the base URL) was refused before a byte left.
      const destinations = done.egress?.destinations ?? [];
      expect(destinations.find((d) => d.destination === 'api.anthropic.com:80')).toMatchObject({ allowed: true, reason: null });
      const api = destinations.find((d) => d.destination === 'api.anthropic.com:80')!;
      expect(api.connections).toBeGreaterThanOrEqual(1);
      expect(api.bytesOut).toBeGreaterThan(0);
      expect(api.bytesIn).toBeGreaterThan(0);
      for (const other of destinations.filter((d) => d.destination !== 'api.anthropic.com:80')) {
        expect(other).toMatchObject({ allowed: false, reason: "not in this session's allow-list", bytesIn: 0, bytesOut: 0 });
      }

      const usageJson = await outputFile(hub, session.id, 'usage.json');
      await expectKeyNowhere(hub, fakeKey, { log, reason: done.statusReason ?? '', resultJson, resultMd, usageJson, conversation });
    }, 180_000);

    it('records what the real CLI spent: each session’s usage from Claude’s result, and their sum on the orchestration', async () => {
      const tag = randomBytes(6).toString('hex');
      const prompts: Record<string, string> = { one: `Name one Python keyword (${tag}).`, two: `Name two Python keywords (${tag}).` };
      const created = await hub.api.createOrchestration({
        name: `spent-${tag}`,
        start: true,
        sessions: Object.entries(prompts).map(([name, prompt]) => ({ name, type: 'analysis', image: IMAGE, prompt, timeoutSeconds: 180 })),
      });
      const ended = await hub.api.waitForOrchestration(created.id, 150_000);

      let costUsd = 0;
      let answers = 0;
      for (const session of ended.sessions) {
        expect({ name: session.name, status: session.status, reason: session.statusReason }).toMatchObject({ status: 'completed' });
        // One answer per turn (one here); usage.json holds exactly what the fake said they used, and Claude's cost of it.
        const answered = answeredFor(prompts[session.name!]!).length;
        expect(answered).toBeGreaterThanOrEqual(1);
        const report = JSON.parse(await outputFile(hub, session.id, 'usage.json')) as { tokens: unknown; costUsd: number };
        expect(report).toEqual({ tokens: reportedTokens(answered), costUsd: expect.any(Number) });
        expect(report.costUsd).toBeGreaterThan(0);
        // The session's view shows it (every attempt added up: one here).
        const view = await waitFor(() => hub.api.getSession(session.id), (s) => s.usage !== null, 30_000);
        expect(view.usage).toEqual({ tokens: tokensOf(answered), costUsd: report.costUsd });
        costUsd += report.costUsd;
        answers += answered;
      }
      // The orchestration's usage is its sessions' sum.
      const orchestration = await waitFor(() => hub.api.getOrchestration(created.id), (o) => o.usage.tokens.total === tokensOf(answers).total, 30_000);
      expect(orchestration.usage.tokens).toEqual(tokensOf(answers));
      expect(orchestration.usage.costUsd).toBeCloseTo(costUsd, 6);
    }, 180_000);

    it('waits out a rate limit the real CLI ran into (429), without spending the session’s retries, then completes', async () => {
      const prompt = `List the chapters of the tutorial (${randomBytes(6).toString('hex')}).`;
      // Every Messages request is refused for 5 s from the next one (this session's first).
      fake.rateLimitFor(5_000, 'next request');
      const session = await hub.api.createSession({ type: 'analysis', image: IMAGE, prompt, retries: 0, timeoutSeconds: 180, start: true });

      // Its first attempt ran into the limit: the session waits, ready, saying why and until when.
      const waiting = await waitFor(
        () => hub.api.getSession(session.id),
        (s) => (s.status === 'ready' && s.attempt === 1) || ['completed', 'failed', 'cancelled', 'timed_out', 'skipped'].includes(s.status),
        150_000,
      );
      expect({ status: waiting.status, reason: waiting.statusReason }).toMatchObject({ status: 'ready' });
      expect(waiting.statusReason).toContain(`attempt 1 rate limited by its model's API (API Error: Request rejected (429) · ${RATE_LIMIT_MESSAGE})`);
      const until = /; waiting until (\S+) to run it again \(its retries unspent\)$/.exec(waiting.statusReason ?? '');
      expect(until).not.toBeNull();
      // The pinned CLI does not say when the limit resets: the runner's wait, HUB_RATE_LIMIT_WAIT_SECONDS=5.
      const limitedAt = Date.parse(waiting.attempts[0]!.finishedAt);
      expect(Date.parse(until![1]!) - limitedAt).toBeGreaterThanOrEqual(4_000);
      expect(Date.parse(until![1]!) - limitedAt).toBeLessThanOrEqual(7_000);
      const firstLog = await logsOf(hub, session.id, 1);
      expect(firstLog).toContain(
        `hub-claude-code: rate limited by the Anthropic API (429 rate_limit_error); it did not say when the limit resets: API Error: Request rejected (429) · ${RATE_LIMIT_MESSAGE}`,
      );

      const done = await hub.api.waitForStatus(session.id, undefined, 150_000);
      expect({ status: done.status, reason: done.statusReason }).toMatchObject({ status: 'completed' });
      expect(done).toMatchObject({ attempt: 2, retries: 0, exitCode: 0 });
      expect(done.attempts.map((a) => [a.status, a.reason])).toEqual([
        ['failed', expect.stringMatching(/^rate_limited: API Error: Request rejected \(429\)/)],
        ['completed', expect.stringMatching(/^exited with code 0/)],
      ]);
      expect(await outputFile(hub, session.id, 'result.md')).toBe(`${FAKE_ANSWER}\n`);
      // The fake refused the first attempt's request and answered the second's.
      const asked = fake.messages().filter(({ body }) => userText(body).includes(prompt));
      expect(asked.map(({ status }) => status)).toEqual([429, 200]);
      // The limited attempt spent nothing; the second, one answer.
      expect(done.usage?.tokens).toEqual(tokensOf(1));
    }, 240_000);

    it('continues a completed session: the new run resumes its conversation (the API sees the earlier turns) on the first session’s change', async () => {
      const tag = randomBytes(6).toString('hex');
      const firstPrompt = `Write the notes for chapter 2 (${WRITE_NOTES} ${tag}).`;
      const secondPrompt = `Now say what the notes cover (${tag}).`;
      const first = await hub.api.createSession({
        name: 'notes',
        type: 'implementation',
        image: IMAGE,
        repository: join(repositories, 'project.git'),
        branch: 'main',
        prompt: firstPrompt,
        timeoutSeconds: 180,
        start: true,
      });
      const firstDone = await hub.api.waitForStatus(first.id, undefined, 150_000);
      expect({ status: firstDone.status, reason: firstDone.statusReason }).toMatchObject({ status: 'completed' });
      // Claude Code ran the Write tool the fake asked for: NOTES.md is the session's change.
      expect(firstDone.changes).toMatchObject({ files: 1 });
      const conversationId = (await outputFile(hub, first.id, 'conversation/session-id')).trim();
      expect(conversationId).toMatch(SESSION_ID);

      const response = await hub.api.request<SessionView>('POST', `/api/v1/sessions/${first.id}/continue`, { prompt: secondPrompt });
      expect({ status: response.status, body: response.text }).toMatchObject({ status: 201 });
      expect(response.body).toMatchObject({ continues: first.id, dependsOn: [first.id], orchestrationId: first.orchestrationId });
      const next = await hub.api.waitForStatus(response.body.id, undefined, 150_000);
      const log = await logsOf(hub, next.id);
      expect({ status: next.status, reason: next.statusReason, log }).toMatchObject({ status: 'completed' });

      // It resumed the conversation, in a workspace with the first session's change.
      expect(log).toMatch(/hub-claude-code: \/workspace: .*NOTES\.md/);
      expect(log).toContain(`hub-claude-code: resuming the conversation ${conversationId} of notes (`);
      expect(log).toContain(`hub-claude-code: running claude -p --resume ${conversationId} in /workspace`);
      // Its request carried the earlier turns: the first prompt, the tool call, its result and the answer.
      const asked = fake.messages().filter(({ body }) => lastUserText(body).includes(secondPrompt));
      expect(asked).toHaveLength(1);
      const { body } = asked[0]!;
      expect(userText(body)).toContain(firstPrompt);
      expect(assistantText(body)).toContain('Write({"file_path":"/workspace/NOTES.md"');
      expect(assistantText(body)).toContain(FAKE_ANSWER);
      // The conversation goes on in its output, under the same id, one turn longer.
      expect((await outputFile(hub, next.id, 'conversation/session-id')).trim()).toBe(conversationId);
      const continued = await outputFile(hub, next.id, `conversation/${conversationId}.jsonl`);
      expect(continued).toContain(secondPrompt);
      expect(continued).toContain(firstPrompt);

      // Each run reports only what it spent (Claude Code's totals go on from the transcript's); the
      // orchestration adds both up.
      const firstAnswers = answeredFor(firstPrompt).length - 1; // the continuation's request carries it too
      expect(firstAnswers).toBe(2); // the tool call, then the answer
      expect((await waitFor(() => hub.api.getSession(next.id), (s) => s.usage !== null, 30_000)).usage?.tokens).toEqual(tokensOf(1));
      expect((await hub.api.getSession(first.id)).usage?.tokens).toEqual(tokensOf(2));
      const orchestration = await waitFor(() => hub.api.getOrchestration(first.orchestrationId), (o) => o.usage.tokens.total === tokensOf(3).total, 30_000);
      expect(orchestration.usage.tokens).toEqual(tokensOf(3));
    }, 360_000);
  });
});
