import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createColors } from 'picocolors';
import { HubError, NO_USAGE, type OrchestrationView, type SessionStatus } from '@hub/contracts';
import { HttpHubApi, type HubEventOptions, type HubStreamEvent } from '@hub/hub-api';
import { buildSessionView } from '@hub/testing';
import type { CliContext } from './cli-context';
import { runHub } from './hub-program';

const orchestrationId = randomUUID();
const planner = buildSessionView({ orchestrationId, name: 'plan' });
const unnamed = buildSessionView({ orchestrationId });

/** A frame of `GET /api/v1/events`: session.status-changed of `session`, with stream sequence `id`. */
function statusFrame(id: number, session: { id: string }, from: SessionStatus, to: SessionStatus, reason: string | null = null): string {
  const at = new Date(Date.UTC(2025, 2, 1, 12, 0, id)).toISOString();
  const data = { sessionId: session.id, orchestrationId, from, to, reason, exitCode: null, containerId: null, at };
  return `id: ${id}\nevent: session.status-changed\ndata: ${JSON.stringify({ id: randomUUID(), subject: 'session.status-changed', occurredAt: at, data })}\n\n`;
}

/** What one connection to the event stream gets: an answer, frames, and then the connection drops, ends, or stays open (till the client hangs up). */
interface Connection {
  status?: number;
  type?: string;
  frames?: string[];
  then?: 'drop' | 'end' | 'stay';
}

/**
 * A stand-in for fetch: a gateway whose event stream answers each connection with the next of
 * `connections` (the last one again when they run out), and whose orchestration and session routes
 * answer `planner` and `unnamed`. It keeps what each connection to the stream asked for.
 */
class FakeGateway {
  readonly asked: { search: string; lastEventId: string | null }[] = [];

  constructor(private readonly connections: Connection[]) {}

  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    if (url.pathname === '/api/v1/events') {
      this.asked.push({ search: url.search, lastEventId: new Headers(init.headers).get('last-event-id') });
      return this.stream(this.connections[Math.min(this.asked.length, this.connections.length) - 1], init.signal ?? undefined);
    }
    const session = [planner, unnamed].find((s) => url.pathname === `/api/v1/sessions/${s.id}`);
    if (session) return Response.json(session);
    if (url.pathname === `/api/v1/orchestrations/${orchestrationId}`) return Response.json(this.orchestration());
    return Response.json({ error: 'not_found', message: `no route GET ${url.pathname}` }, { status: 404 });
  };

  private stream({ status = 200, type = 'text/event-stream', frames = [], then = 'stay' }: Connection, signal?: AbortSignal): Response {
    if (status !== 200) return Response.json({ error: status === 404 ? 'not_found' : 'unavailable', message: `answered ${status}` }, { status });
    const left = [...frames];
    // Frames one at a time, as the client reads them: an error would drop the ones not read yet.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        signal?.addEventListener('abort', () => controller.error(signal.reason));
      },
      pull(controller) {
        const frame = left.shift();
        if (frame !== undefined) controller.enqueue(new TextEncoder().encode(frame));
        else if (then === 'drop') controller.error(new TypeError('terminated'));
        else if (then === 'end') controller.close();
        else return new Promise<void>(() => undefined);
      },
    });
    return new Response(body, { headers: { 'content-type': type } });
  }

  private orchestration(): OrchestrationView {
    const counts = { created: 2, waiting: 0, ready: 0, starting: 0, running: 0, completed: 0, failed: 0, cancelled: 0, timed_out: 0, skipped: 0 };
    const summary = { id: orchestrationId, name: 'pipeline', status: 'pending' as const, maxParallel: null, sessionCount: 2, counts, createdAt: planner.createdAt, publish: null, usage: NO_USAGE, budget: null };
    return { ...summary, sessions: [planner, unnamed], nextCursor: null };
  }
}

const hubOn = (gateway: FakeGateway) => new HttpHubApi({ baseUrl: 'http://gateway.test', apiToken: 't', fetch: gateway.fetch });

/** The events read until `count` came (then it hangs up), with every reconnection announced. */
async function read(gateway: FakeGateway, count: number, options: HubEventOptions = {}) {
  const events: HubStreamEvent[] = [];
  const reconnects: { message: string; after: string | undefined; delayMs: number }[] = [];
  const onReconnect: HubEventOptions['onReconnect'] = ({ error, after, delayMs }) => reconnects.push({ message: error.message, after, delayMs });
  for await (const event of hubOn(gateway).events({ orchestrationId }, { onReconnect, ...options })) {
    events.push(event);
    if (events.length === count) break;
  }
  return { ids: events.map((e) => e.id), events, reconnects };
}

const fast = { firstDelayMs: 1, maxDelayMs: 4, maxFailures: 4, idleMs: 1000 };

describe('following the events across dropped connections', () => {
  it('resumes after the last event received (Last-Event-ID), so none is missed and none comes twice', async () => {
    const gateway = new FakeGateway([
      { frames: [statusFrame(1, planner, 'created', 'waiting'), statusFrame(2, planner, 'waiting', 'ready')], then: 'drop' },
      { frames: [statusFrame(3, planner, 'ready', 'starting')], then: 'end' },
      { frames: [statusFrame(4, planner, 'starting', 'running')] },
    ]);

    const { ids, events, reconnects } = await read(gateway, 4, { reconnect: fast });

    expect(ids).toEqual(['1', '2', '3', '4']);
    expect(events[3].event).toMatchObject({ subject: 'session.status-changed', data: { sessionId: planner.id, to: 'running' } });
    expect(gateway.asked).toEqual([
      { search: `?orchestrationId=${orchestrationId}`, lastEventId: null },
      { search: `?orchestrationId=${orchestrationId}`, lastEventId: '2' },
      { search: `?orchestrationId=${orchestrationId}`, lastEventId: '3' },
    ]);
    expect(reconnects).toEqual([
      { message: 'the event stream broke: terminated', after: '2', delayMs: 1 },
      { message: 'the gateway ended the event stream', after: '3', delayMs: 1 },
    ]);
  });

  it('waits longer after each failed connection, up to a bound, and gives up after maxFailures in a row', async () => {
    const gateway = new FakeGateway([{ status: 503 }]);
    const reconnects: number[] = [];
    const events = hubOn(gateway).events({}, { reconnect: fast, onReconnect: ({ delayMs }) => reconnects.push(delayMs) });

    await expect(events.next()).rejects.toThrow(new HubError('unavailable', 'answered 503'));
    expect(reconnects).toEqual([1, 2, 4, 4]);
    expect(gateway.asked).toHaveLength(5);
  });

  it('starts again from the shortest pause once a connection was made', async () => {
    const gateway = new FakeGateway([{ status: 503 }, { status: 503 }, { frames: [statusFrame(7, planner, 'created', 'waiting')], then: 'drop' }, { status: 503 }, { frames: [statusFrame(8, planner, 'waiting', 'ready')] }]);
    const { ids, reconnects } = await read(gateway, 2, { reconnect: fast });
    expect(ids).toEqual(['7', '8']);
    expect(reconnects.map((r) => r.delayMs)).toEqual([1, 2, 1, 2]);
  });

  it('does not connect again after a refusal', async () => {
    const gateway = new FakeGateway([{ status: 404 }]);
    await expect(read(gateway, 1, { reconnect: fast })).rejects.toMatchObject({ code: 'not_found', message: 'answered 404' });
    expect(gateway.asked).toHaveLength(1);
  });

  it('does not take a page for the stream (a proxy’s, a gateway’s fallback), which would end again and again', async () => {
    const gateway = new FakeGateway([{ type: 'text/html', frames: ['<html></html>'], then: 'end' }]);
    await expect(read(gateway, 1, { reconnect: fast })).rejects.toThrow('the Hub gateway answered text/html where its event stream was expected');
    expect(gateway.asked).toHaveLength(1);
  });

  it('takes a silent stream (not even a heartbeat) as dropped', async () => {
    const gateway = new FakeGateway([{ frames: [': heartbeat\n\n'] }, { frames: [statusFrame(1, planner, 'created', 'waiting')] }]);
    const { ids, reconnects } = await read(gateway, 1, { reconnect: { ...fast, idleMs: 50 } });
    expect(ids).toEqual(['1']);
    expect(reconnects).toEqual([{ message: 'the event stream was silent for 50 ms', after: undefined, delayMs: 1 }]);
  });

  it('passes over a subject it does not know (a newer gateway’s), and resumes after it', async () => {
    const unknown = `id: 5\nevent: session.renamed\ndata: {"whatever":true}\n\n`;
    const gateway = new FakeGateway([{ frames: [unknown], then: 'drop' }, { frames: [statusFrame(6, planner, 'created', 'waiting')] }]);
    const { ids } = await read(gateway, 1, { reconnect: fast, after: '4' });
    expect(ids).toEqual(['6']);
    expect(gateway.asked.map((a) => a.lastEventId)).toEqual(['4', '5']);
  });

  it('ends, hanging up, when its signal aborts', async () => {
    const stop = new AbortController();
    const gateway = new FakeGateway([{ frames: [statusFrame(1, planner, 'created', 'waiting')] }]);
    const seen: string[] = [];
    setTimeout(() => stop.abort(), 50);
    for await (const { id } of hubOn(gateway).events({}, { signal: stop.signal })) seen.push(id);
    expect(seen).toEqual(['1']);
    expect(gateway.asked).toHaveLength(1);
  });
});

describe('hub events', () => {
  /** `hub …` on the fake gateway, stopped with Ctrl-C once stdout has `lines` lines. */
  async function hubEvents(gateway: FakeGateway, args: string[], lines = 0) {
    const out = new PassThrough();
    const err = new PassThrough();
    const written = { out: '', err: '' };
    out.on('data', (chunk) => {
      written.out += chunk;
      if (lines && written.out.split('\n').length > lines) process.emit('SIGINT');
    });
    err.on('data', (chunk) => (written.err += chunk));
    const context: CliContext = {
      terminal: { out, err, live: false, colours: createColors(false), columns: () => Infinity, rows: () => Infinity },
      connect: async () => hubOn(gateway),
    };
    const code = await runHub(['node', 'hub', 'events', ...args], context);
    return { code, ...written };
  }

  it("prints an orchestration's events a line each, its sessions by name (else their id), and stops cleanly on Ctrl-C, saying where to go on from", async () => {
    const gateway = new FakeGateway([
      { frames: [statusFrame(11, planner, 'created', 'waiting'), statusFrame(12, unnamed, 'running', 'failed', 'exited with code 3')], then: 'drop' },
      { frames: [statusFrame(13, planner, 'waiting', 'skipped')] },
    ]);

    const run = await hubEvents(gateway, ['--orchestration', orchestrationId, '--type', 'session.status-changed,orchestration.finished'], 3);

    expect(run.code).toBe(0);
    expect(run.out.split('\n').map((line) => line.slice(10))).toEqual([
      'session.status-changed          plan            created → waiting',
      `session.status-changed          ${unnamed.id.slice(0, 8)}        running → failed  exited with code 3`,
      'session.status-changed          plan            waiting → skipped',
      '',
    ]);
    expect(gateway.asked.map((a) => [a.search, a.lastEventId])).toEqual([
      [`?orchestrationId=${orchestrationId}&type=session.status-changed%2Corchestration.finished`, null],
      [`?orchestrationId=${orchestrationId}&type=session.status-changed%2Corchestration.finished`, '12'],
    ]);
    expect(run.err).toBe('hub: the event stream broke: terminated; connecting again in 0.5s, after event 12\nstopped after event 13 (--after 13 goes on from there)\n');
  });

  it('prints each event’s JSON as the gateway sent it with --json, from --after', async () => {
    const frame = statusFrame(21, planner, 'created', 'waiting');
    const gateway = new FakeGateway([{ frames: [frame] }]);
    const run = await hubEvents(gateway, ['--session', planner.id, '--after', '20', '--json'], 1);
    expect(run.out).toBe(`${frame.split('\n')[2].slice('data: '.length)}\n`);
    expect(gateway.asked).toEqual([{ search: `?sessionId=${planner.id}`, lastEventId: '20' }]);
  });

  it('exits 2 for a subject or an event id that cannot be, and 1 when the gateway refuses', async () => {
    const gateway = new FakeGateway([{ status: 404 }]);
    expect(await hubEvents(gateway, ['--type', 'session.renamed'])).toMatchObject({ code: 2, err: expect.stringContaining('--type: not an event subject: session.renamed (known: session.created,') });
    expect(await hubEvents(gateway, ['--after', 'last'])).toMatchObject({ code: 2, err: "hub: --after must be the id of an event (a whole number), not 'last'\n" });
    expect(await hubEvents(gateway, ['--json'])).toEqual({ code: 1, out: '', err: 'hub: answered 404 (HTTP 404 not_found)\n' });
  });
});
