import { randomUUID } from 'node:crypto';
import { createColors } from 'picocolors';
import type { AnyEvent, EventPayload, EventSubject } from '@hub/contracts';
import { aboutOf, eventLine } from './event.renderer';
import { clockTime } from './format';

const colours = createColors(false);
const at = '2025-03-01T12:00:01.000Z';
const clock = clockTime(new Date(at));
const event = <S extends EventSubject>(subject: S, data: EventPayload<S>) => ({ id: randomUUID(), subject, occurredAt: at, data }) as AnyEvent;
const [sessionId, orchestrationId, dependencyId] = [randomUUID(), randomUUID(), randomUUID()];

describe('an event on one line', () => {
  it('says when, what, about which session, from → to and why', () => {
    const failed = event('session.status-changed', { sessionId, orchestrationId, from: 'running', to: 'failed', reason: 'exited with code 3', exitCode: 3, containerId: 'c1', at });
    expect(eventLine(failed, 'impl-a', colours)).toBe(`${clock}  session.status-changed          impl-a          running → failed  exited with code 3`);
    const waiting = event('session.status-changed', { sessionId, orchestrationId, from: 'created', to: 'waiting', reason: null, exitCode: null, containerId: null, at });
    expect(eventLine(waiting, sessionId.slice(0, 8), colours)).toBe(`${clock}  session.status-changed          ${sessionId.slice(0, 8)}        created → waiting`);
  });

  it("tells each subject's own facts; an orchestration's events are about the orchestration", () => {
    const lines = [
      event('container.exited', {
        sessionId,
        attempt: 2,
        containerId: 'c1',
        runnerId: 'r1',
        cause: 'exited',
        exitCode: 3,
        oomKilled: false,
        durationMs: 1500,
        detail: null,
        output: { files: 0, bytes: 0, skipped: 0 },
        logBytes: 10,
        logDroppedBytes: 0,
        changes: null,
        usage: null,
        rateLimit: null,
      }),
      event('container.started', { sessionId, attempt: 1, containerId: 'c1', runnerId: 'runner-1', startedAt: at }),
      event('deps.failed', { sessionId, dependencyId, dependencyStatus: 'failed' }),
      event('session.start-requested', { sessionId, orchestrationId, dependsOn: [], run: 2 }),
      event('session.cancel-requested', { sessionId, runnerId: null }),
      event('orchestration.finished', { orchestrationId, status: 'completed', publish: { branch: 'feature/x' }, at }),
      event('orchestration.result', { orchestrationId, result: { changes: null, reason: null, publish: { branch: 'feature/x', status: 'not_pushed', commit: null, reason: 'nothing changed' }, at } }),
    ].map((e) => eventLine(e, aboutOf(e).kind === 'session' ? 'impl-a' : 'pipeline', colours).slice(clock.length + 2));

    expect(lines).toEqual([
      'container.exited                impl-a          attempt 2 exited with code 3 after 1.5s',
      'container.started               impl-a          attempt 1 on runner-1',
      `deps.failed                     impl-a          dependency ${dependencyId.slice(0, 8)} failed`,
      'session.start-requested         impl-a          run 2',
      'session.cancel-requested        impl-a',
      'orchestration.finished          pipeline        completed, to publish to feature/x',
      'orchestration.result            pipeline        no session changed anything; not pushed to feature/x',
    ]);
  });

  it('paints the status moved to, on a terminal', () => {
    const completed = event('session.status-changed', { sessionId, orchestrationId, from: 'running', to: 'completed', reason: null, exitCode: 0, containerId: 'c1', at });
    expect(eventLine(completed, 'impl-a', createColors(true))).toContain('running → \x1b[32mcompleted\x1b[39m');
  });
});
