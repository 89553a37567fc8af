import { afterStatusChange, applyStatusChange, type LiveSessionFields, type StatusChange } from './apply-status-change';

const session = (id: string, status: LiveSessionFields['status'], more: Partial<LiveSessionFields> = {}): LiveSessionFields => ({
  id,
  status,
  statusReason: null,
  exitCode: null,
  startedAt: null,
  finishedAt: null,
  ...more,
});
const change = (sessionId: string, from: StatusChange['from'], to: StatusChange['to'], more: Partial<StatusChange> = {}): StatusChange => ({
  sessionId,
  orchestrationId: 'o',
  from,
  to,
  reason: null,
  exitCode: null,
  containerId: null,
  at: '2026-11-29T10:00:00.000Z',
  ...more,
});

describe('a status change shown without reading the session again', () => {
  it('moves the session on, with its reason, exit code and times', () => {
    expect(afterStatusChange(session('a', 'starting'), change('a', 'starting', 'running'))).toMatchObject({ status: 'running', startedAt: '2026-11-29T10:00:00.000Z' });
    expect(afterStatusChange(session('a', 'running', { startedAt: 'x' }), change('a', 'running', 'failed', { reason: 'exit code 1', exitCode: 1 }))).toEqual(
      session('a', 'failed', { statusReason: 'exit code 1', exitCode: 1, startedAt: 'x', finishedAt: '2026-11-29T10:00:00.000Z' }),
    );
  });

  it('applies only the move from the status shown: events replayed from before it was read change nothing', () => {
    const done = session('a', 'completed', { finishedAt: 'y' });
    for (const old of [change('a', 'created', 'waiting'), change('a', 'ready', 'starting'), change('a', 'running', 'completed')]) {
      expect(afterStatusChange(done, old)).toBeUndefined();
    }
  });

  it('starts afresh on a re-run', () => {
    const rerun = afterStatusChange(session('a', 'failed', { startedAt: 'x', finishedAt: 'y' }), change('a', 'failed', 'waiting', { reason: 're-run requested' }));
    expect(rerun).toMatchObject({ status: 'waiting', statusReason: 're-run requested', startedAt: null, finishedAt: null });
  });

  it('changes the one session of a list it is about, and nothing (the same list) otherwise', () => {
    const list = [session('a', 'running'), session('b', 'waiting')];
    const next = applyStatusChange(list, change('b', 'waiting', 'ready'));
    expect(next.map((s) => s.status)).toEqual(['running', 'ready']);
    expect(next[0]).toBe(list[0]);
    expect(applyStatusChange(list, change('c', 'waiting', 'ready'))).toBe(list);
    expect(applyStatusChange(list, change('a', 'waiting', 'ready'))).toBe(list);
  });
});
