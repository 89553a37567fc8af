import type { ChangeSummary, SessionStatus, SessionView } from '@hub/contracts';
import { buildSessionView } from '@hub/testing';
import { finalSessions, repositoryMismatch } from './final-sessions';

const REPO = 'https://github.com/acme/app.git';

/** A session of one orchestration, as its view lists it: `changed` gives it captured changes. */
function session(name: string, status: SessionStatus, changed: boolean, dependsOn: SessionView[] = [], repository: string | null = REPO) {
  const changes: ChangeSummary | null = changed
    ? { branch: `hub/o/${name}`, baseCommit: 'a'.repeat(40), headCommit: 'b'.repeat(40), files: 1, added: 1, removed: 0 }
    : null;
  return buildSessionView({ id: `id-${name}`, name, status, changes, repository, dependsOn: dependsOn.map((s) => s.id) });
}

const names = (sessions: SessionView[]) => sessions.map((s) => s.name);

describe('finalSessions', () => {
  it('keeps the last of a chain: a completed dependent with changes holds its dependency’s', () => {
    const plan = session('plan', 'completed', true);
    const impl = session('impl', 'completed', true, [plan]);
    expect(names(finalSessions([plan, impl]))).toEqual(['impl']);
  });

  it('keeps parallel branches in declaration order, and a dependency whose dependent changed nothing', () => {
    const plan = session('plan', 'completed', true);
    const implA = session('impl-a', 'completed', true, [plan]);
    const implB = session('impl-b', 'completed', true, [plan]);
    const review = session('review', 'completed', false, [implA]);
    expect(names(finalSessions([plan, implB, implA, review]))).toEqual(['impl-b', 'impl-a']);
  });

  it('leaves out sessions that did not complete or changed nothing, and keeps what they depended on', () => {
    const implA = session('impl-a', 'completed', true);
    const implB = session('impl-b', 'completed', true);
    const broken = session('broken', 'failed', true, [implA]);
    const idle = session('idle', 'completed', false, [implB]);
    const skipped = session('skipped', 'skipped', false, [broken]);
    expect(names(finalSessions([implA, implB, broken, idle, skipped]))).toEqual(['impl-a', 'impl-b']);
  });

  it('leaves out a dependency that several completed dependents took up, directly or further down', () => {
    const base = session('base', 'completed', true);
    const middle = session('middle', 'completed', true, [base]);
    const top = session('top', 'completed', true, [middle, base]);
    expect(names(finalSessions([base, middle, top]))).toEqual(['top']);
  });

  it('finds none when nothing changed', () => {
    expect(finalSessions([session('a', 'completed', false), session('b', 'failed', true)])).toEqual([]);
  });
});

describe('repositoryMismatch', () => {
  it('is null when the final sessions share a repository, or all have none', () => {
    expect(repositoryMismatch([session('a', 'completed', true), session('b', 'completed', true)])).toBeNull();
    expect(repositoryMismatch([session('a', 'completed', true, [], null), session('b', 'completed', true, [], null)])).toBeNull();
  });

  it('names each repository with its sessions, a session without one too', () => {
    const other = 'https://github.com/acme/other.git';
    const reason = repositoryMismatch([
      session('a', 'completed', true),
      session('b', 'completed', true, [], other),
      session('c', 'completed', true),
      session('d', 'completed', true, [], null),
    ]);
    expect(reason).toBe(
      `the final sessions worked in 3 repositories, which cannot be combined: a, c in ${REPO}; b in ${other}; d in no repository`,
    );
  });
});
