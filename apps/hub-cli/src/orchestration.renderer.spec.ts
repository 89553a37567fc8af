import { createColors } from 'picocolors';
import type { OrchestrationView, SessionCounts, SessionView } from '@hub/contracts';
import { NO_USAGE, SESSION_STATUSES } from '@hub/contracts';
import { buildSessionView } from '@hub/testing';
import { headerLines, StatusChangeLog, summaryLines, treeLines } from './orchestration.renderer';

const plain = createColors(false);
const T0 = Date.parse('2026-01-01T12:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function orchestration(sessions: SessionView[], overrides: Partial<OrchestrationView> = {}): OrchestrationView {
  const counts = Object.fromEntries(SESSION_STATUSES.map((status) => [status, sessions.filter((s) => s.status === status).length])) as SessionCounts;
  return {
    id: 'a1b2c3d4-0000-4000-8000-000000000000',
    name: 'diamond',
    status: 'running',
    maxParallel: null,
    sessionCount: sessions.length,
    counts,
    createdAt: at(0),
    publish: null,
    usage: NO_USAGE,
    budget: null,
    result: null,
    causes: [],
    sessions,
    nextCursor: null,
    ...overrides,
  };
}

/** plan → (impl-a, impl-b) → review, as the API lists it: declared order, dependencies by id in any order. */
function diamond(statuses: Partial<Record<string, Partial<SessionView>>> = {}) {
  const session = (name: string, dependsOn: SessionView[] = []) =>
    buildSessionView({ id: `id-${name}`, name, status: 'waiting', dependsOn: dependsOn.map((s) => s.id), ...statuses[name] });
  const plan = session('plan');
  const implA = session('impl-a', [plan]);
  const implB = session('impl-b', [plan]);
  const review = buildSessionView({ ...session('review'), dependsOn: [implB.id, implA.id], ...statuses['review'] });
  return [plan, implA, implB, review];
}

describe('the orchestration tree', () => {
  it('draws a diamond DAG with each session under its first declared dependency, naming all of a join’s', () => {
    const view = orchestration(
      diamond({
        plan: { status: 'completed', startedAt: at(0), finishedAt: at(2.5), statusReason: 'exited with code 0' },
        'impl-a': { status: 'running', startedAt: at(3) },
        'impl-b': { status: 'failed', startedAt: at(3), finishedAt: at(4), statusReason: 'exited with code 1' },
      }),
    );

    expect(treeLines(view, { now: T0 + 15_000, colours: plain })).toEqual([
      '✔ plan          completed    2.5s',
      '├─ ● impl-a     running       12s',
      '│  └─ ○ review  waiting            ← impl-a, impl-b',
      '└─ ✖ impl-b     failed       1.0s  exited with code 1',
    ]);
    expect(headerLines(view, { now: T0 + 15_000, colours: plain })).toEqual([
      'diamond  a1b2c3d4-0000-4000-8000-000000000000  running  15s',
      '4 sessions: ○ 1 waiting  ● 1 running  ✔ 1 completed  ✖ 1 failed',
    ]);
  });

  it('cuts lines to the width, so none wraps on a terminal', () => {
    const view = orchestration(diamond({ 'impl-b': { status: 'skipped', statusReason: 'plan (id-plan) failed (exited with code 1)' } }));
    const lines = treeLines(view, { now: T0, colours: plain, width: 40 });
    expect(lines.every((line) => line.length <= 40)).toBe(true);
    expect(lines[3]).toBe('└─ ↷ impl-b     skipped          plan (…');
  });

  it('paints on a terminal, and only there', () => {
    const colours = createColors(true);
    const [line] = treeLines(orchestration(diamond()), { now: T0, colours });
    expect(line).toContain('\x1b[');
    expect(line.replace(/\x1b\[[0-9;]*m/g, '')).toBe('○ plan          waiting');
  });

  it('says, once it ended, which sessions did not complete and why, then its result', () => {
    const [plan, implA, implB, review] = diamond({
      plan: { status: 'completed' },
      'impl-a': { status: 'completed' },
      'impl-b': { status: 'failed', statusReason: 'exited with code 1' },
      review: { status: 'skipped', statusReason: 'impl-b (id-impl-b) failed (exited with code 1)' },
    });
    const view = orchestration([plan, implA, implB, review], {
      status: 'failed',
      causes: [{ sessionId: implB.id, name: 'impl-b', status: 'failed', reason: 'exited with code 1', skipped: 1 }],
      result: {
        changes: {
          branch: 'hub/diamond/result',
          baseCommit: 'a'.repeat(40),
          headCommit: 'b'.repeat(40),
          files: 3,
          added: 10,
          removed: 2,
          repository: 'https://github.com/acme/app.git',
          sessions: [{ sessionId: implA.id, name: 'impl-a' }],
        },
        reason: null,
        publish: { branch: 'feature', status: 'not_pushed', commit: null, reason: 'impl-b failed' },
        at: at(9),
      },
    });

    expect(summaryLines(view, plain)).toEqual([
      '1 session did not complete:',
      '  ✖ impl-b failed: exited with code 1 (1 skipped because of it)',
      `result: hub/diamond/result in https://github.com/acme/app.git: 3 files changed, +10 −2 (from impl-a); the diff: hub changes ${view.id}`,
      'publish: not pushed to feature: impl-b failed',
    ]);
  });
});

describe('the plain watch (stdout not a terminal)', () => {
  it('prints a line per status change, with no colour and no cursor movement', () => {
    const log = new StatusChangeLog();
    const clock = (seconds: number) => new Date(2026, 0, 1, 12, 0, seconds);

    const first = log.lines(orchestration(diamond({ plan: { status: 'running', startedAt: at(0) } })), clock(1));
    const same = log.lines(orchestration(diamond({ plan: { status: 'running', startedAt: at(0) } })), clock(2));
    const later = log.lines(
      orchestration(
        diamond({
          plan: { status: 'completed', startedAt: at(0), finishedAt: at(2) },
          'impl-a': { status: 'running', startedAt: at(2) },
          'impl-b': { status: 'failed', startedAt: at(2), finishedAt: at(3), statusReason: 'exited with code 1' },
        }),
        { status: 'failed' },
      ),
      clock(3),
    );

    expect(first).toEqual([
      '12:00:01 plan running',
      '12:00:01 impl-a waiting',
      '12:00:01 impl-b waiting',
      '12:00:01 review waiting',
      '12:00:01 orchestration diamond running',
    ]);
    expect(same).toEqual([]);
    expect(later).toEqual([
      '12:00:03 plan completed after 2.0s',
      '12:00:03 impl-a running',
      '12:00:03 impl-b failed after 1.0s: exited with code 1',
      '12:00:03 orchestration diamond failed',
    ]);
    expect([...first, ...later].join('\n')).not.toContain('\x1b');
  });
});
