import { randomUUID } from 'node:crypto';
import { AnyEvent, notFound } from '@hub/contracts';
import { buildSessionView } from '@hub/testing';
import { TenantVisibility } from './tenant-visibility';

const ours = randomUUID();
const theirs = randomUUID();
const ourSession = randomUUID();
const theirSession = randomUUID();

/** The registry as the caller's tenant sees it: its own orchestration and session, nothing of the other tenant's. */
function registry() {
  const asked: string[] = [];
  return {
    asked,
    getOrchestration: async (id: string) => {
      asked.push(`orchestration ${id}`);
      if (id !== ours) throw notFound('orchestration', id);
      return {} as never;
    },
    getSession: async (id: string) => {
      asked.push(`session ${id}`);
      if (id !== ourSession) throw notFound('session', id);
      return buildSessionView({ id, orchestrationId: ours });
    },
  };
}

const event = (subject: AnyEvent['subject'], data: Record<string, unknown>) => ({ id: randomUUID(), subject, occurredAt: '', data }) as AnyEvent;

describe("an unfiltered stream's events, as a tenant sees them", () => {
  it("lets through its own orchestrations' events and no other tenant's, asking about each orchestration once", async () => {
    const hub = registry();
    const visibility = new TenantVisibility(hub);
    expect(await visibility.accepts(event('session.status-changed', { sessionId: ourSession, orchestrationId: ours }))).toBe(true);
    expect(await visibility.accepts(event('orchestration.finished', { orchestrationId: ours }))).toBe(true);
    expect(await visibility.accepts(event('session.status-changed', { sessionId: theirSession, orchestrationId: theirs }))).toBe(false);
    expect(await visibility.accepts(event('orchestration.finished', { orchestrationId: theirs }))).toBe(false);
    expect(hub.asked).toEqual([`orchestration ${ours}`, `orchestration ${theirs}`]);
  });

  it('places events that name only their session by what earlier events said of it, else by asking', async () => {
    const hub = registry();
    const visibility = new TenantVisibility(hub);
    await visibility.accepts(event('session.created', { sessionId: theirSession, orchestrationId: theirs }));
    expect(await visibility.accepts(event('container.exited', { sessionId: theirSession }))).toBe(false);
    expect(await visibility.accepts(event('container.started', { sessionId: ourSession }))).toBe(true);
    expect(await visibility.accepts(event('deps.resolved', { sessionId: randomUUID() }))).toBe(false);
    expect(hub.asked.filter((q) => q.startsWith('session'))).toEqual([`session ${ourSession}`, expect.any(String)]);
  });
});
