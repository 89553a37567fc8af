import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionOutput, SessionView } from '@hub/contracts';
import { makeTempDir } from '@hub/infra';
import { containersOf } from './support/docker';
import { createBareRepository } from './support/git-repository';
import { startTestStack, type TestStack } from './support/test-stack';

// Code flows through the DAG: every session works in a git workspace Hub prepared (the repository,
// plus the changes of the sessions it depends on, merged in declaration order), and what it changed
// is captured when it ends, in a helper container, never by git on the host.

const byName = (sessions: SessionView[]) => Object.fromEntries(sessions.map((s) => [s.name!, s]));
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
/** Runs git with the API token as Basic auth's password, as a person would with a credential helper; never in the URL. */
const gitWithToken = (cwd: string, token: string, ...args: string[]) =>
  git(cwd, '-c', `http.extraHeader=Authorization: Basic ${Buffer.from(`hub:${token}`).toString('base64')}`, ...args);
const commit = (message: string) => `git -c user.name=agent -c user.email=agent@hub.invalid commit -qam '${message}'`;

describe('sessions work in git workspaces, and their changes flow downstream', () => {
  let hub: TestStack;
  let repository: string;

  beforeAll(async () => {
    const roots = await makeTempDir('hub-repos');
    repository = join(roots, 'app.git');
    createBareRepository(repository, {
      'src/a.sh': 'a() { echo 1; }\n',
      'src/b.sh': 'b() { echo 2; }\n',
    });
    hub = await startTestStack({ HUB_LOCAL_REPOSITORY_ROOTS: roots });
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  it('analysis → (impl-a, impl-b) → tests → review: each starts from the work before it; changes are kept and shown', async () => {
    const created = await hub.api.createOrchestration({
      name: 'flow',
      start: true,
      sessions: [
        { name: 'analysis', repository, prompt: 'echo "change a and b" > PLAN.md' },
        // impl-a commits its own work; impl-b leaves its change uncommitted: both are captured.
        { name: 'impl-a', repository, dependsOn: ['analysis'], prompt: `sed -i 's/echo 1/echo 10/' src/a.sh && ${commit('impl a')}` },
        { name: 'impl-b', repository, dependsOn: ['analysis'], prompt: `sed -i 's/echo 2/echo 20/' src/b.sh` },
        {
          name: 'tests',
          repository,
          dependsOn: ['impl-a', 'impl-b'],
          prompt: '. src/a.sh; . src/b.sh; test -f PLAN.md && test "$(a)$(b)" = 1020 && echo "both changes present: $(a) $(b)"',
        },
        { name: 'review', repository, dependsOn: ['tests'], prompt: 'git log --format=%s > /hub/output/history.txt; cat src/a.sh src/b.sh > /hub/output/code.txt' },
      ],
      publish: { branch: 'feature/flow' },
    });

    const done = await hub.api.waitForOrchestration(created.id, 120_000);

    const s = byName(done.sessions);
    expect(Object.fromEntries(Object.entries(s).map(([name, session]) => [name, session.status]))).toEqual({
      analysis: 'completed',
      'impl-a': 'completed',
      'impl-b': 'completed',
      tests: 'completed',
      review: 'completed',
    });
    const testsLog = await hub.api.request('GET', `/api/v1/sessions/${s.tests.id}/logs`);
    expect(testsLog.text).toContain('both changes present: 10 20');
    const code = await hub.api.request('GET', `/api/v1/sessions/${s.review.id}/output/files/code.txt`);
    expect(code.text).toBe('a() { echo 10; }\nb() { echo 20; }\n');
    const history = await hub.api.request('GET', `/api/v1/sessions/${s.review.id}/output/files/history.txt`);
    expect(history.text).toMatch(/impl a/);

    // The change of each session: its branch, base and head, counts; the diff on its own route.
    expect(s['impl-a'].changes).toMatchObject({ branch: 'hub/flow/impl-a', files: 2, added: 2, removed: 1 });
    expect(s['impl-b'].changes).toMatchObject({ branch: 'hub/flow/impl-b', files: 2 });
    expect(s['impl-a'].changes!.baseCommit).toBe(s.analysis.changes!.baseCommit);
    const diff = await hub.api.request('GET', `/api/v1/sessions/${s['impl-b'].id}/changes`);
    expect(diff.status).toBe(200);
    expect(diff.text).toContain('-b() { echo 2; }\n+b() { echo 20; }');
    const output = await hub.api.request<SessionOutput>('GET', `/api/v1/sessions/${s['impl-a'].id}/output`);
    expect(output.body.changes).toEqual(s['impl-a'].changes);
    const merged = await hub.api.request('GET', `/api/v1/sessions/${s.tests.id}/changes`);
    expect(merged.status).toBe(200); // tests' branch holds the merged work of its dependencies

    // The orchestration's result: the final session's change (review holds everything before it), pushed as asked.
    const { result } = await hub.api.waitForResult(created.id);
    expect(result.changes).toMatchObject({ branch: 'hub/flow/_result', headCommit: s.review.changes!.headCommit, sessions: [{ name: 'review' }] });
    expect(result.publish).toMatchObject({ branch: 'feature/flow', status: 'pushed', commit: result.changes!.headCommit });
    const combined = await hub.api.request('GET', `/api/v1/orchestrations/${created.id}/changes`);
    expect(combined.status).toBe(200);
    expect(combined.text).toContain('+a() { echo 10; }');
    expect(combined.text).toContain('+b() { echo 20; }');
    expect(combined.text).toContain('PLAN.md');
    expect(git(repository, 'rev-parse', 'refs/heads/feature/flow')).toBe(result.changes!.headCommit);
    expect(git(repository, 'rev-parse', 'refs/heads/main')).toBe(s.analysis.changes!.baseCommit); // main untouched

    // git fetch from Hub, with the token: every session's branch and the result, read-only.
    const clone = mkdtempSync(join(tmpdir(), 'hub-e2e-fetch-'));
    git(clone, 'init', '--quiet');
    const url = `${hub.api.baseUrl}/git/${created.id}.git`;
    gitWithToken(clone, hub.stack.apiToken, 'fetch', '--quiet', url, '+refs/heads/*:refs/remotes/hub/*');
    expect(git(clone, 'rev-parse', 'refs/remotes/hub/hub/flow/impl-a')).toBe(s['impl-a'].changes!.headCommit);
    expect(git(clone, 'rev-parse', 'refs/remotes/hub/hub/flow/_result')).toBe(result.changes!.headCommit);
    expect(git(clone, 'show', 'refs/remotes/hub/hub/flow/_result:src/b.sh')).toBe('b() { echo 20; }');
    // Without the token: refused; pushing: refused, with the token too.
    expect(() => git(clone, '-c', 'credential.helper=', '-c', 'core.askPass=/bin/false', 'fetch', '--quiet', url)).toThrow(/401|Authentication failed|could not read Username/);
    expect(() => gitWithToken(clone, hub.stack.apiToken, 'push', '--quiet', url, 'refs/remotes/hub/hub/flow/_result:refs/heads/evil')).toThrow();
    const refs = await hub.api.request('GET', `/git/${created.id}.git/info/refs?service=git-receive-pack`);
    expect(refs.status).toBe(403);
    expect(readFileSync(join(repository, 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
  }, 180_000);

  it('two dependencies editing the same line: the dependent fails before its container exists, naming the file and both sessions', async () => {
    const created = await hub.api.createOrchestration({
      name: 'collide',
      start: true,
      sessions: [
        { name: 'impl-a', repository, prompt: `sed -i 's/echo 1/echo 11/' src/a.sh` },
        { name: 'impl-b', repository, prompt: `sed -i 's/echo 1/echo 12/' src/a.sh` },
        { name: 'tests', repository, dependsOn: ['impl-a', 'impl-b'], prompt: 'echo never' },
      ],
    });

    const done = await hub.api.waitForOrchestration(created.id, 120_000);

    const s = byName(done.sessions);
    expect([s['impl-a'].status, s['impl-b'].status]).toEqual(['completed', 'completed']);
    expect(s.tests.status).toBe('failed');
    expect(s.tests.statusReason).toMatch(/^merge_conflict: /);
    expect(s.tests.statusReason).toContain('src/a.sh');
    expect(s.tests.statusReason).toContain('impl-a');
    expect(s.tests.statusReason).toContain('impl-b');
    expect(s.tests.containerId).toBeNull();
    expect(await containersOf(s.tests.id)).toEqual([]);
    // Nothing else is lost: both changes are kept.
    expect((await hub.api.request('GET', `/api/v1/sessions/${s['impl-b'].id}/changes`)).text).toContain('+a() { echo 12; }');
  }, 180_000);

  it('a hostile workspace (fsmonitor, hooks, a filter, a link to a host file) runs and reads nothing on the host', async () => {
    const marker = `/tmp/hub-host-marker-${randomBytes(6).toString('hex')}`;
    const prompt = [
      `git config core.fsmonitor 'touch ${marker}-fsmonitor; false'`,
      `git config core.hooksPath .git/hooks`,
      `printf '#!/bin/sh\\ntouch ${marker}-hook\\n' > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit`,
      `cp .git/hooks/pre-commit .git/hooks/post-commit`,
      `git config filter.evil.clean 'touch ${marker}-filter; cat'`,
      `echo '* filter=evil' > .gitattributes`,
      'ln -s /etc/passwd passwd-link',
      'echo changed >> src/b.sh',
    ].join('\n');
    const producer = await hub.api.createSession({ name: 'hostile', repository, prompt, start: true });
    const done = await hub.api.waitForStatus(producer.id, undefined, 60_000);
    expect(done.status).toBe('completed');

    // A dependent merges that work on the runner before its container starts.
    const dependent = await hub.api.createSession({ repository, dependsOn: [producer.id], prompt: 'readlink passwd-link; tail -1 src/b.sh', start: true });
    const after = await hub.api.waitForStatus(dependent.id, undefined, 60_000);
    expect(after.status).toBe('completed');
    const log = await hub.api.request('GET', `/api/v1/sessions/${dependent.id}/logs`);
    expect(log.text).toContain('/etc/passwd\nchanged');

    const diff = await hub.api.request('GET', `/api/v1/sessions/${producer.id}/changes`);
    expect(diff.text).toMatch(/new file mode 120000/); // the link is committed as a link
    expect(diff.text).not.toContain('root:x:0:0'); // never followed
    for (const suffix of ['fsmonitor', 'hook', 'filter']) expect(existsSync(`${marker}-${suffix}`)).toBe(false);
  }, 180_000);
});
