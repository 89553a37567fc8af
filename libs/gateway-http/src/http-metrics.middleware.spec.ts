import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createLogger } from '@hub/config';
import { Registry } from 'prom-client';
import { httpMetrics, metricsEndpoint } from './http-metrics.middleware';

// The gateway's HTTP metrics on a small express app: each request counted under its catalog route
// (operationId), never its path, and the scrapes themselves left out.

const SESSION_ID = '3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7';

describe('HTTP metrics', () => {
  let registry: Registry;
  let server: Server;
  let base: string;

  beforeEach(async () => {
    registry = new Registry();
    const app = express();
    app.use(httpMetrics(registry));
    app.use(metricsEndpoint(createLogger('test', 'silent'), registry));
    app.get('/api/v1/sessions/:id', (_req, res) => void res.json({}));
    app.post('/api/v1/sessions', (_req, res) => void res.status(201).json({}));
    app.get('/health/live', (_req, res) => void res.json({ status: 'ok' }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise((resolve) => server.close(resolve)));

  /** The metrics as the gateway's /metrics answers them, read once every answer above was counted. */
  const scrape = async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  };

  it('counts each request under its route in the catalog, its method and status code', async () => {
    await fetch(`${base}/api/v1/sessions/${SESSION_ID}`);
    await fetch(`${base}/API/V1/SESSIONS/${SESSION_ID}/`);
    await fetch(`${base}/api/v1/sessions`, { method: 'POST' });
    await fetch(`${base}/health/live`);

    const text = await scrape();
    expect(text).toContain('hub_http_requests_total{route="getSession",method="GET",code="200"} 2');
    expect(text).toContain('hub_http_requests_total{route="createSession",method="POST",code="201"} 1');
    expect(text).toContain('hub_http_requests_total{route="liveness",method="GET",code="200"} 1');
    expect(text).toContain('hub_http_request_duration_seconds_count{route="getSession",method="GET"} 2');
  });

  it('counts a path outside the catalog, or an unknown method, as other, never by its path', async () => {
    await fetch(`${base}/api/v1/nowhere/${SESSION_ID}`);
    await fetch(`${base}/api/v1/sessions`, { method: 'PROPFIND' });

    const text = await scrape();
    expect(text).toContain('hub_http_requests_total{route="other",method="GET",code="404"} 1');
    expect(text).toContain('hub_http_requests_total{route="other",method="other",code="404"} 1');
    expect(text).not.toContain(SESSION_ID);
    expect(text).not.toContain('nowhere');
  });

  it('leaves the scrapes of /metrics out', async () => {
    await scrape();
    expect(await scrape()).not.toMatch(/^hub_http_requests_total/m);
  });
});
