import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
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
