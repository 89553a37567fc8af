import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { type AnyEvent, CreateOrchestrationRequestSchema, HubError, type OrchestrationView, type SessionStatus, type SessionView } from '@hub/contracts';
import type { HubEventFilter, HubEventOptions, HubEventStream, HubStreamEvent } from '@hub/hub-api';
import { InMemoryHubApi } from '@hub/testing';
import { orchestrationUpdates, REFRESH_MS } from './orchestration-updates';

/** An in-memory Hub whose event stream carries what the test tells it, or a gateway without that route (`noEventsRoute`). */
class InMemoryHubWithEvents extends InMemoryHubApi implements HubEventStream {
  noEventsRoute = false;
  private readonly told: HubStreamEvent[] = [];
  private readonly arrived = new EventEmitter();

  tell(event: AnyEvent): void {
    this.told.push({ id: String(this.told.length + 1), event, json: JSON.stringify(event) });
    this.arrived.emit('event');
  }

  async *events(_filter: HubEventFilter, { signal }: HubEventOptions = {}): AsyncGenerator<HubStreamEvent> {
    if (this.noEventsRoute) throw new HubError('not_found', 'no route GET /api/v1/events');
    for (let next = 0; !signal?.aborted; ) {
      if (next < this.told.length) yield this.told[next++];
      else await once(this.arrived, 'event', { signal }).catch(() => undefined);
    }
  }
}

const at = new Date().toISOString();
const statusChanged = (session: SessionView, to: SessionStatus): AnyEvent => ({
  id: randomUUID(),
  subject: 'session.status-changed',
  occurredAt: at,
  data: { sessionId: session.id, orchestrationId: session.orchestrationId, from: session.status, to, reason: null, exitCode: null, containerId: null, at },
});

async function started(hub: InMemoryHubWithEvents, names: string[]) {
  const request = CreateOrchestrationRequestSchema.parse({ name: 'o', start: true, sessions: names.map((name) => ({ name, prompt: 'true' })) });
  const view = await hub.createOrchestration(request);
  return { id: view.id, sessions: view.sessions };
}

/** The next view: there must be one. */
async function nextView(updates: AsyncGenerator<OrchestrationView>): Promise<OrchestrationView> {
  const next = await updates.next();
  if (next.done) throw new Error('the updates ended');
  return next.value;
}

const methods = (hub: InMemoryHubApi) => hub.received.map((call) => call.method);

describe('orchestrationUpdates', () => {
  it('reads again, on the events, only the sessions that moved, at most every REFRESH_MS; at the end, the view once its result is in', async () => {
    const hub = new InMemoryHubWithEvents();
    const { id, sessions } = await started(hub, ['a', 'b', 'c']);
    const updates = orchestrationUpdates(hub, id, { resultWaitSeconds: 0 });

    expect(await nextView(updates)).toMatchObject({ status: 'running', counts: { waiting: 3 } });
    const readAt = Date.now();
    hub.received.length = 0;
    hub.finish(sessions[0].id, {});
    hub.tell(statusChanged(sessions[0], 'completed'));
    hub.finish(sessions[1].id, { status: 'failed', exitCode: 1 });
    hub.tell(statusChanged(sessions[1], 'failed'));

    // Both moves in one refresh: the two sessions, and the header (status, counts).
    const refreshed = await nextView(updates);
    expect(Date.now() - readAt).toBeGreaterThanOrEqual(REFRESH_MS - 20);
    expect(refreshed.sessions.map((s) => s.status)).toEqual(['completed', 'failed', 'waiting']);
    expect(methods(hub).sort()).toEqual(['getOrchestration', 'getSession', 'getSession']);
    expect(hub.received.filter((call) => call.method === 'getSession').map((call) => call.request)).toEqual([sessions[0].id, sessions[1].id]);

    hub.received.length = 0;
    const movedAt = Date.now();
    for (const session of [sessions[1], sessions[2]]) {
      hub.finish(session.id, {});
      hub.tell(statusChanged(session, 'completed'));
    }
    const ended = await nextView(updates);
    expect(Date.now() - movedAt).toBeGreaterThanOrEqual(REFRESH_MS - 20);
    expect(ended.status).toBe('completed');

    // Ended: its result is waited for (?wait=result), then the view is given once more, and that is all.
    hub.received.length = 0;
    expect(await nextView(updates)).toMatchObject({ status: 'completed', counts: { completed: 3 } });
    expect(hub.received).toEqual([{ method: 'waitForOrchestration', request: { orchestrationId: id, until: 'result', timeoutSeconds: 0 } }]);
    expect((await updates.next()).done).toBe(true);
  });

  it('believes an end from a read, not from an event: a retried orchestration’s stream replays its earlier end', async () => {
    const hub = new InMemoryHubWithEvents();
    const { id, sessions } = await started(hub, ['a']);
    const updates = orchestrationUpdates(hub, id, { resultWaitSeconds: 0 });
    await updates.next();

    hub.tell({ id: randomUUID(), subject: 'orchestration.finished', occurredAt: at, data: { orchestrationId: id, status: 'failed', publish: null, at } });
    expect(await nextView(updates)).toMatchObject({ status: 'running' });

    hub.finish(sessions[0].id, {});
    hub.tell(statusChanged(sessions[0], 'completed'));
    expect(await nextView(updates)).toMatchObject({ status: 'completed' });
  });

  it('polls a gateway without the events route, and stops when the signal aborts', async () => {
    const hub = new InMemoryHubWithEvents();
    hub.noEventsRoute = true;
    const { id, sessions } = await started(hub, ['a']);
    const stop = new AbortController();
    const seen: string[] = [];
    setTimeout(() => hub.finish(sessions[0].id, {}), 60);

    for await (const view of orchestrationUpdates(hub, id, { intervalMs: 20, resultWaitSeconds: 0, signal: stop.signal })) seen.push(view.status);

    expect(seen[0]).toBe('running');
    expect(seen.slice(-2)).toEqual(['completed', 'completed']);
    expect(methods(hub).filter((m) => m === 'getOrchestration').length).toBeGreaterThan(3);

    const { id: other } = await started(hub, ['b']);
    const polled: string[] = [];
    setTimeout(() => stop.abort(), 60);
    for await (const view of orchestrationUpdates(hub, other, { intervalMs: 20, signal: stop.signal })) polled.push(view.status);
    expect(polled.length).toBeGreaterThan(1);
    expect(new Set(polled)).toEqual(new Set(['running']));
  });
});
