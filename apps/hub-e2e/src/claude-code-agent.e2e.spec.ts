import { spawnSync, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { makeTempDir } from '@hub/infra';
import { startTestStack, type TestStack } from './support/test-stack';

// The Claude Code agent image, built offline from this machine's node, git and the npm package,
// running its real entrypoint and the real `claude` CLI in Hub's hardened containers (network none).

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
      // because the entrypoint sees the container has no network.
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
      const resultJson = (await hub.api.request('GET', `/api/v1/sessions/${session.id}/output/files/result.json`)).text;
      const result = JSON.parse(resultJson);
      expect(result).toMatchObject({ type: 'result', is_error: true });
      const resultMd = (await hub.api.request('GET', `/api/v1/sessions/${session.id}/output/files/result.md`)).text;
      expect(resultMd).toContain('API Error');

      // The key reached the container (it got past the key check) but shows nowhere: not in the
      // log, the reason, the output, or the services' logs.
      for (const [where, text] of Object.entries({ log, reason: done.statusReason ?? '', resultJson, resultMd })) {
        expect({ where, leaks: text.includes(fakeKey) }).toEqual({ where, leaks: false });
      }
      for (const file of await readdir(hub.stack.logDir)) {
        const text = await readFile(join(hub.stack.logDir, file), 'utf8');
        expect({ file, leaks: text.includes(fakeKey) }).toEqual({ file, leaks: false });
      }
    }, 150_000);
  });
});
