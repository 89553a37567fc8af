import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { createColors } from 'picocolors';
import { CreateOrchestrationRequestSchema, HubError } from '@hub/contracts';
import { HttpHubApi, type HubStreamEvent } from '@hub/hub-api';
import { InMemoryHubApi } from '@hub/testing';
import type { CliContext } from './cli-context';
import { describeFailure } from './cli-error';
import { runHub } from './hub-program';
import { followLog } from './logs.command';

/** A gateway older than the events route: the watch polls it. */
async function* noEventsRoute(): AsyncGenerator<HubStreamEvent> {
  throw new HubError('not_found', 'no route GET /api/v1/events');
}

/** The CLI on an in-memory Hub, its stdout and stderr kept. */
function cliOn(hub: InMemoryHubApi) {
  const out = new PassThrough();
  const err = new PassThrough();
  const context: CliContext = {
    terminal: { out, err, live: false, colours: createColors(false), columns: () => Infinity, rows: () => Infinity },
    connect: async () => Object.assign(hub, { events: noEventsRoute }),
  };
  const run = async (...args: string[]) => {
    const code = await runHub(['node', 'hub', ...args], context);
    out.end();
    err.end();
    return { code, out: await text(out), err: await text(err) };
  };
  return { run };
}

describe('the hub program', () => {
  it('exits 2 on a usage error, saying what is wrong', async () => {
    const wrongStatus = await cliOn(new InMemoryHubApi()).run('ls', '--status', 'sleeping');
    expect(wrongStatus).toMatchObject({ code: 2, err: expect.stringContaining("hub: --status must be one of created, waiting") });
    expect(await cliOn(new InMemoryHubApi()).run('no-such-command')).toMatchObject({ code: 2, err: expect.stringContaining("unknown command 'no-such-command'") });
    expect(await cliOn(new InMemoryHubApi()).run('get')).toMatchObject({ code: 2, err: expect.stringContaining("missing required argument 'id'") });
    expect(await cliOn(new InMemoryHubApi()).run('--help')).toMatchObject({ code: 0, out: expect.stringContaining('Usage: hub') });
  });

  it('exits 1 with one line naming the HTTP status and the API’s message', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const result = await cliOn(new InMemoryHubApi()).run('get', missing);
    expect(result).toEqual({ code: 1, out: '', err: `hub: there is no session and no orchestration ${missing} (HTTP 404 not_found)\n` });
  });

  it('lists sessions as a table', async () => {
    const hub = new InMemoryHubApi();
    const session = await hub.createSession({ type: 'analysis', prompt: 'true', name: 'plan', start: true });
    const result = await cliOn(hub).run('ls');
    expect(result.code).toBe(0);
    expect(result.out.split('\n')).toEqual([
      expect.stringMatching(/^ID +NAME +STATUS +TYPE +DURATION +AGE +REASON$/),
      expect.stringMatching(new RegExp(`^${session.id}  plan +waiting +analysis +0s$`)),
      '',
    ]);
  });

  it('retries an orchestration, and re-runs a session, naming the sessions that run again and how they had ended', async () => {
    const hub = new InMemoryHubApi();
    const request = { name: 'flaky', start: true, sessions: [{ name: 'a', prompt: 'true' }, { name: 'b', prompt: 'exit 3', dependsOn: ['a'] }] };
    const { id, sessions } = await hub.createOrchestration(CreateOrchestrationRequestSchema.parse(request));
    const [a, b] = sessions;
    const failB = () => {
      hub.finish(b.id, { status: 'failed', exitCode: 3 });
      hub.sessions.get(b.id)!.statusReason = 'exited with code 3';
    };
    hub.finish(a.id, {});
    failB();

    const retried = await cliOn(hub).run('retry', id);
    expect(retried).toEqual({ code: 0, out: `retried orchestration flaky ${id}: 1 session runs again\n  ✖ b (failed: exited with code 3)\nfollow it: hub watch ${id}\n`, err: '' });
    expect(hub.received.filter((call) => call.method === 'retryOrchestration')).toEqual([{ method: 'retryOrchestration', request: id }]);

    failB();
    const rerun = await cliOn(hub).run('rerun', a.id);
    expect(rerun.out).toBe(`re-ran session a ${a.id}: 2 sessions run again\n  ✔ a (completed)\n  ✖ b (failed: exited with code 3)\nfollow it: hub watch ${id}\n`);

    const busy = await cliOn(hub).run('retry', id);
    expect(busy).toMatchObject({ code: 1, err: `hub: cannot retry orchestration ${id}: it has not ended (HTTP 409 conflict)\n` });
  });

  it('continues a completed session, and shows or replaces a budget, refusing one that names no cap', async () => {
    const hub = new InMemoryHubApi();
    const { id, sessions } = await hub.createOrchestration(CreateOrchestrationRequestSchema.parse({ name: 'work', sessions: [{ name: 'plan', prompt: 'true' }] }));
    hub.finish(sessions[0].id, {});

    const continued = await cliOn(hub).run('continue', sessions[0].id, 'now', 'the', 'tests');
    const next = [...hub.sessions.values()].find((s) => s.continues === sessions[0].id)!;
    expect(continued).toEqual({ code: 0, out: `continued session ${sessions[0].id} as plan-continued-1 ${next.id} (waiting)\nfollow it: hub logs -f ${next.id}\n`, err: '' });
    expect(hub.received.at(-1)).toEqual({ method: 'continueSession', request: { sessionId: sessions[0].id, prompt: 'now the tests', start: true } });

    expect((await cliOn(hub).run('budget', id)).out).toBe(`work ${id}: spent: 0 tokens; no budget\n`);
    const set = await cliOn(hub).run('budget', id, '--tokens', '50000', '--on-exhausted', 'stop');
    expect(set.out).toBe(`work ${id}: spent: 0 tokens of a budget of 50,000 tokens (50,000 left); on exhausted: stop\n`);
    expect(hub.received.at(-1)).toEqual({ method: 'updateOrchestration', request: { orchestrationId: id, budget: { tokens: 50000, onExhausted: 'stop' } } });
    expect(await cliOn(hub).run('budget', id, '--on-exhausted', 'stop')).toMatchObject({ code: 1, err: 'hub: --on-exhausted needs --tokens or --usd: a budget names what it caps\n' });
  });

  it('says so, without an HTTP status, when the gateway cannot be reached at all', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const error = await new HttpHubApi({ baseUrl: `http://127.0.0.1:${port}`, apiToken: 't' }).getSession('x').catch((e: unknown) => e);
    expect(describeFailure(error)).toEqual({
      line: `cannot reach the Hub gateway at http://127.0.0.1:${port} (ECONNREFUSED); is Hub running? (npm run hub)`,
      exitCode: 1,
    });
  });
});

describe('followLog', () => {
  it('waits for the session to end, telling each status, then writes its log', async () => {
    const hub = new InMemoryHubApi();
    const session = await hub.createSession({ type: 'analysis', prompt: 'echo hi', start: true });
    const statuses: string[] = [];
    const out = new PassThrough();
    setTimeout(() => hub.finish(session.id, { status: 'failed', exitCode: 1, log: 'hi\nbroken\n' }), 50);

    const ended = await followLog(hub, session.id, out, { intervalMs: 10, onStatus: (status) => statuses.push(status) });
    out.end();

    expect(ended.status).toBe('failed');
    expect(statuses).toEqual(['waiting', 'failed']);
    expect(await text(out)).toBe('hi\nbroken\n');
  });
});
