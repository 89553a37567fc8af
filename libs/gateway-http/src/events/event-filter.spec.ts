import { randomUUID } from 'node:crypto';
import { AnyEvent, EventPayload, EventSubject } from '@hub/contracts';
import { EventFilter } from './event-filter';

const at = new Date().toISOString();
const event = <S extends EventSubject>(subject: S, data: EventPayload<S>) =>
  ({ id: randomUUID(), subject, occurredAt: at, data }) as AnyEvent;

const orchestrationId = randomUUID();
const other = randomUUID();
const [first, later, stranger] = [randomUUID(), randomUUID(), randomUUID()];

const statusChanged = (sessionId: string, inOrchestration = orchestrationId) =>
  event('session.status-changed', { sessionId, orchestrationId: inOrchestration, from: 'created', to: 'waiting', reason: null, exitCode: null, containerId: null, at });
const created = (sessionId: string, inOrchestration = orchestrationId) =>
  event('session.created', { sessionId, orchestrationId: inOrchestration, type: 'analysis', image: 'hub/test-agent:latest', dependsOn: [] });
const resolved = (sessionId: string) => event('deps.resolved', { sessionId });
const started = (sessionId: string) =>
  event('container.started', { sessionId, attempt: 1, containerId: 'c1', runnerId: 'r1', startedAt: at });
const finished = (id: string) => event('orchestration.finished', { orchestrationId: id, status: 'completed', publish: null, at });

describe('EventFilter', () => {
  it('lets every event through without filters', () => {
    const filter = new EventFilter({});
    for (const e of [statusChanged(first), resolved(stranger), finished(other)]) expect(filter.accepts(e)).toBe(true);
  });

  it("keeps an orchestration's events: by their orchestrationId, or through their session for deps.* and container.*", () => {
    const filter = new EventFilter({ orchestrationId }, [first]);
    expect(filter.accepts(statusChanged(first))).toBe(true);
    expect(filter.accepts(finished(orchestrationId))).toBe(true);
    expect(filter.accepts(resolved(first))).toBe(true);
    expect(filter.accepts(started(first))).toBe(true);

    expect(filter.accepts(statusChanged(stranger, other))).toBe(false);
    expect(filter.accepts(finished(other))).toBe(false);
    expect(filter.accepts(resolved(stranger))).toBe(false);
  });

  it('learns the sessions created later from session.created, even when it does not let that type through', () => {
    const filter = new EventFilter({ orchestrationId, types: ['deps.resolved'] }, [first]);
    expect(filter.accepts(resolved(later))).toBe(false);
    expect(filter.accepts(created(later))).toBe(false);
    expect(filter.accepts(resolved(later))).toBe(true);
    expect(filter.accepts(created(stranger, other))).toBe(false);
    expect(filter.accepts(resolved(stranger))).toBe(false);
  });

  it('filters by session and by type; every filter given must match', () => {
    const bySession = new EventFilter({ sessionId: first });
    expect([statusChanged(first), resolved(first), resolved(later), finished(orchestrationId)].map((e) => bySession.accepts(e))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const byTypes = new EventFilter({ types: ['deps.resolved', 'orchestration.finished'] });
    expect([statusChanged(first), resolved(first), finished(other)].map((e) => byTypes.accepts(e))).toEqual([false, true, true]);
    const both = new EventFilter({ orchestrationId, sessionId: first, types: ['session.status-changed'] }, [first]);
    expect([statusChanged(first), statusChanged(later), resolved(first)].map((e) => both.accepts(e))).toEqual([true, false, false]);
  });

  it('has the server filter on one subject only when that hides nothing it needs', () => {
    expect(new EventFilter({}).serverSubject()).toBeUndefined();
    expect(new EventFilter({ types: ['deps.resolved'] }).serverSubject()).toBe('deps.resolved');
    expect(new EventFilter({ types: ['deps.resolved', 'session.created'] }).serverSubject()).toBeUndefined();
    expect(new EventFilter({ orchestrationId, types: ['session.status-changed'] }).serverSubject()).toBe('session.status-changed');
    // deps.resolved names only its session: the orchestration's new sessions come from session.created.
    expect(new EventFilter({ orchestrationId, types: ['deps.resolved'] }).serverSubject()).toBeUndefined();
    expect(new EventFilter({ sessionId: first, types: ['container.started'] }).serverSubject()).toBe('container.started');
  });
});
