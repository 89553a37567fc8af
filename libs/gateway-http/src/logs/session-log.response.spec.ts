import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { createLogger } from '@hub/config';
import { HubError, type SessionLogQuery } from '@hub/contracts';
import type { LogFollowOptions } from '@hub/hub-api';
import { InMemoryHubApi } from '@hub/testing';
import { sendSessionLog } from './session-log.response';

// sendSessionLog over a real HTTP server, with Hub in memory (whose follow gives a session's lines
// once it ends): the headers go at once, lines are framed as asked, and a client that leaves stops the follow.

class WatchedHubApi extends InMemoryHubApi {
  followSignal: AbortSignal | undefined;
  override followSessionLog(sessionId: string, options: LogFollowOptions = {}) {
    this.followSignal = options.signal;
    return super.followSessionLog(sessionId, options);
  }
}

describe('sendSessionLog', () => {
  const logger = createLogger('session-log-test', 'silent');
  let hub: WatchedHubApi;
  let server: Server;
  let url: string;

  beforeEach(async () => {
    hub = new WatchedHubApi();
    const app = express();
    app.get('/logs/:id', (req, res, next) => {
      const query: SessionLogQuery = { follow: req.query['follow'] === 'true' };
      sendSessionLog(hub, req.params.id, query, req, res, logger).catch((error: HubError) => {
        if (res.headersSent) return next(error);
        res.status(error.code === 'not_found' ? 404 : 500).json({ error: error.code, message: error.message });
      });
    });
    server = app.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers the headers at once, then each line as NDJSON, and ends when the session ends', async () => {
    const session = await hub.createSession({ type: 'analysis', prompt: 'echo hi', start: true });
    const response = await fetch(`${url}/logs/${session.id}?follow=true`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(response.headers.get('cache-control')).toBe('no-cache');

    hub.finish(session.id, { log: 'one\n"two"\n' });
    const lines = (await response.text()).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line)).map((l) => [l.stream, l.line])).toEqual([
      ['stdout', 'one'],
      ['stdout', '"two"'],
    ]);
  });

  it('answers SSE to a client that asks for text/event-stream, ending with an end event', async () => {
    const session = await hub.createSession({ type: 'analysis', prompt: 'echo hi', start: true });
    hub.finish(session.id, { log: 'only\n' });
    const response = await fetch(`${url}/logs/${session.id}?follow=true`, { headers: { accept: 'text/event-stream' } });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const body = await response.text();
    expect(body).toMatch(/^: following the log\n\ndata: \{"t":"[^"]+","stream":"stdout","line":"only"\}\n\nevent: end\ndata: \{\}\n\n$/);
  });

  it('stops following when the client goes', async () => {
    const session = await hub.createSession({ type: 'analysis', prompt: 'sleep 60', start: true });
    const client = new AbortController();
    await fetch(`${url}/logs/${session.id}?follow=true`, { signal: client.signal });
    expect(hub.followSignal?.aborted).toBe(false);
    client.abort();
    const deadline = Date.now() + 2_000;
    while (!hub.followSignal?.aborted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(hub.followSignal?.aborted).toBe(true);
  });

  it('serves the stored log as text without follow, and a refusal before anything is sent', async () => {
    const session = await hub.createSession({ type: 'analysis', prompt: 'echo hi', start: true });
    expect((await fetch(`${url}/logs/${session.id}`)).status).toBe(404);
    hub.finish(session.id, { log: 'stored\n' });
    const response = await fetch(`${url}/logs/${session.id}`);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toBe('stored\n');
  });
});
