import { HubClient, HubRequestError, queryString } from './hub-client';

interface Call {
  url: string;
  init: RequestInit;
}

/** A fetch that records each request and answers from the script, in order. */
function scripted(...answers: (Response | Error)[]) {
  const calls: Call[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const answer = answers.shift();
    if (!answer) throw new Error('no answer scripted');
    if (answer instanceof Error) throw answer;
    return answer;
  }) as unknown as typeof globalThis.fetch;
  return { calls, fetch };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const headerOf = (call: Call, name: string) => new Headers(call.init.headers).get(name);

describe('HubClient', () => {
  it('sends the token as a bearer token, never in the URL', async () => {
    const { calls, fetch } = scripted(json(200, { items: [], nextCursor: null }));
    await new HubClient('s3cret-token', { fetch }).listSessions({ status: ['running', 'waiting'], q: 'api tests', limit: 25 });
    expect(calls[0].url).toBe('/api/v1/sessions?status=running%2Cwaiting&q=api+tests&limit=25');
    expect(calls[0].url).not.toContain('s3cret');
    expect(headerOf(calls[0], 'authorization')).toBe('Bearer s3cret-token');
  });

  it("turns a refusal into a HubRequestError with the API's message, and tells of a 401", async () => {
    const unauthorized = jest.fn();
    const { fetch } = scripted(json(409, { error: 'conflict', message: 'cannot cancel session x: it already ended completed' }), json(401, { error: 'unauthorized', message: 'bad token' }));
    const client = new HubClient('t', { fetch, onUnauthorized: unauthorized });
    await expect(client.cancelSession('x')).rejects.toEqual(new HubRequestError(409, 'conflict', 'cannot cancel session x: it already ended completed'));
    expect(unauthorized).not.toHaveBeenCalled();
    await expect(client.getSession('x')).rejects.toMatchObject({ status: 401, message: 'bad token' });
    expect(unauthorized).toHaveBeenCalledTimes(1);
  });

  it('says when Hub did not answer at all, and lets an abort through as it is', async () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    const { fetch } = scripted(new TypeError('fetch failed'), abort);
    const client = new HubClient('t', { fetch });
    await expect(client.getSession('x')).rejects.toMatchObject({ status: 0, code: 'unreachable' });
    await expect(client.getSession('x')).rejects.toBe(abort);
  });

  it('takes the readiness report with its 503, and encodes each segment of an output path', async () => {
    const report = { status: 'unavailable', checks: [{ name: 'nats', ok: false, detail: 'down', fix: 'start it' }] };
    const { calls, fetch } = scripted(json(503, report), new Response('data'));
    const client = new HubClient('t', { fetch });
    expect(await client.readiness()).toEqual(report);
    expect(await (await client.outputFile('id', 'dir/a b#.txt')).text()).toBe('data');
    expect(calls[1].url).toBe('/api/v1/sessions/id/output/files/dir/a%20b%23.txt');
  });

  it('resumes a stream of events with Last-Event-ID, and asks for the log as NDJSON', async () => {
    const { calls, fetch } = scripted(new Response(''), new Response(''));
    const client = new HubClient('t', { fetch });
    await client.events({ orchestrationId: 'o', type: ['session.status-changed', 'orchestration.finished'] }, '41', new AbortController().signal);
    await client.followSessionLog('s', 2, new AbortController().signal);
    expect(calls[0].url).toBe('/api/v1/events?orchestrationId=o&type=session.status-changed%2Corchestration.finished');
    expect(headerOf(calls[0], 'last-event-id')).toBe('41');
    expect(headerOf(calls[0], 'accept')).toBe('text/event-stream');
    expect(calls[1].url).toBe('/api/v1/sessions/s/logs?attempt=2&follow=true');
    expect(headerOf(calls[1], 'accept')).toBe('application/x-ndjson');
  });

  it('leaves out of a query what is not given', () => {
    expect(queryString({ a: undefined, b: '', c: 0, d: ['x'] })).toBe('?c=0&d=x');
    expect(queryString({})).toBe('');
  });
});
