import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { inSpan, SpanKind, startTracing, stopTracing } from '@hub/tracing';
import { httpTracing } from './tracing.middleware';

// Where a trace begins: the gateway's request for an operation of the catalog is its root span,
// named by the catalog's route, and what the route does (its body read, its calls) is under it.

const SESSION_ID = '3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7';

describe('HTTP tracing', () => {
  let exporter: InMemorySpanExporter;
  let server: Server;
  let base: string;

  const listen = async (app: express.Express) => {
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const app = () => {
    const app = express();
    app.use(httpTracing());
    app.use(express.json());
    // A route that calls a service once it has the body: its call is a child of the request's span.
    app.post('/api/v1/sessions', (req, res) => {
      void inSpan('request hub.registry.sessions.create', { kind: SpanKind.CLIENT }, async () => sleep(5)).then(() =>
        res.status(201).json({ prompt: req.body.prompt }),
      );
    });
    app.get('/api/v1/sessions/:id', (_req, res) => void res.status(503).json({}));
    app.get('/health/live', (_req, res) => void res.json({ status: 'ok' }));
    return app;
  };
  const spans = async () => {
    await sleep(20);
    return exporter.getFinishedSpans();
  };

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await stopTracing();
  });

  describe('on', () => {
    beforeEach(async () => {
      exporter = new InMemorySpanExporter();
      startTracing('gateway', { exporter, env: {} });
      await listen(app());
    });

    it("starts a trace at a request for an operation: named by the catalog's route, its work under it", async () => {
      const response = await fetch(`${base}/api/v1/sessions?x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'a secret prompt' }),
      });
      expect(response.status).toBe(201);
      const [call, request] = await spans();
      expect(request.name).toBe('POST /api/v1/sessions');
      expect(request.kind).toBe(SpanKind.SERVER);
      expect(request.parentSpanContext).toBeUndefined();
      expect(request.attributes).toEqual({
        'http.request.method': 'POST',
        'http.route': '/api/v1/sessions',
        'hub.route': 'createSession',
        'http.response.status_code': 201,
      });
      expect(call.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      expect(JSON.stringify([call, request].map((s) => s.attributes))).not.toContain('secret');
    });

    it("continues a client's trace, and marks a 5xx failed; never the path's ids", async () => {
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      await fetch(`${base}/api/v1/sessions/${SESSION_ID}`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
      const [request] = await spans();
      expect(request.name).toBe('GET /api/v1/sessions/{id}');
      expect(request.spanContext().traceId).toBe(traceId);
      expect(request.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
      expect(request.attributes).toMatchObject({ 'hub.route': 'getSession', 'http.response.status_code': 503, 'error.type': '503' });
      expect(request.status.code).toBe(2);
      expect(JSON.stringify({ name: request.name, attributes: request.attributes, events: request.events })).not.toContain(SESSION_ID);
    });

    it('starts none for a probe or a path outside the catalog', async () => {
      await fetch(`${base}/health/live`);
      await fetch(`${base}/api/v1/nowhere`);
      expect(await spans()).toEqual([]);
    });
  });

  it('does nothing when tracing is off', async () => {
    exporter = new InMemorySpanExporter();
    startTracing('gateway', { env: {} });
    await listen(app());
    expect((await fetch(`${base}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(201);
    expect(await spans()).toEqual([]);
  });
});
