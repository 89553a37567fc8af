import { spawnSync, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { makeTempDir } from '@hub/infra';
import { FAKE_ANSWER, startFakeAnthropicApi, userText, type FakeAnthropicApi } from './support/fake-anthropic-api';
import { startTestStack, type TestStack } from './support/test-stack';

// The Claude Code agent image, built offline from this machine's node, git and the npm package,
// running its real entrypoint and the real `claude` CLI in Hub's hardened containers (network none):
// without a key, without any destination, and through Hub's egress proxy to a local fake of the
// Anthropic API, where a session completes. No real key, no outside network: the real API is never reached.

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

const logsOf = async (hub: TestStack, id: string) => (await hub.api.request('GET', `/api/v1/sessions/${id}/logs`)).text;
const outputFile = async (hub: TestStack, id: string, path: string) => (await hub.api.request('GET', `/api/v1/sessions/${id}/output/files/${path}`)).text;

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

      // Its structured result and its answer are the session's output.
      const output = await hub.api.request<{ files: { path: string }[] }>('GET', `/api/v1/sessions/${session.id}/output`);
      expect(output.body.files.map((f) => f.path).sort()).toEqual(['result.json', 'result.md']);
      const resultJson = await outputFile(hub, session.id, 'result.json');
      const result = JSON.parse(resultJson);
      expect(result).toMatchObject({ type: 'result', is_error: true });
      const resultMd = await outputFile(hub, session.id, 'result.md');
      expect(resultMd).toContain('API Error');

      // The key reached the container (it got past the key check) but shows nowhere.
      await expectKeyNowhere(hub, fakeKey, { log, reason: done.statusReason ?? '', resultJson, resultMd });
    }, 150_000);
  });

  describe('through Hub’s egress proxy, against a local fake of the Anthropic API', () => {
    const fakeKey = `sk-ant-test-${randomBytes(20).toString('hex')}`;
    let fake: FakeAnthropicApi;
    let hub: TestStack;

    beforeAll(async () => {
      fake = await startFakeAnthropicApi();
      hub = await startTestStack({
        HUB_RUNNER_ID: ownRunnerId(),
        HUB_SECRET_ANTHROPIC_API_KEY: fakeKey,
        HUB_SECRETS_FILE: '',
        // Claude Code speaks plain HTTP to api.anthropic.com:80 (its HTTPS_PROXY/HTTP_PROXY are Hub's
        // proxy); the proxy lets only that through, and connects it to the fake on loopback.
        HUB_IMAGE_ENV: 'hub/claude-code*=ANTHROPIC_BASE_URL=http://api.anthropic.com:80',
        HUB_EGRESS: 'hub/claude-code*=api.anthropic.com:80',
        HUB_EGRESS_RESOLVE: `api.anthropic.com=127.0.0.1:${fake.port}`,
      });
    }, 180_000);

    afterAll(async () => {
      await hub?.stop();
      await fake?.close();
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

      // Claude's answer (the fake's) and its JSON result are the session's output.
      const output = await hub.api.request<{ files: { path: string }[] }>('GET', `/api/v1/sessions/${session.id}/output`);
      expect(output.body.files.map((f) => f.path).sort()).toEqual(['result.json', 'result.md']);
      const resultMd = await outputFile(hub, session.id, 'result.md');
      expect(resultMd).toBe(`${FAKE_ANSWER}\n`);
      const resultJson = await outputFile(hub, session.id, 'result.json');
      expect(JSON.parse(resultJson)).toMatchObject({ type: 'result', subtype: 'success', is_error: false, num_turns: 1, result: FAKE_ANSWER });

      // The request reached the fake through the proxy, with the prompt and the runner's key.
      const messages = fake.messages();
      expect(messages.length).toBeGreaterThanOrEqual(1);
      expect(messages.some(({ body }) => userText(body).includes(prompt))).toBe(true);
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

      await expectKeyNowhere(hub, fakeKey, { log, reason: done.statusReason ?? '', resultJson, resultMd });
    }, 180_000);
  });
});
