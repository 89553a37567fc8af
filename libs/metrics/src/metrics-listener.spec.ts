import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import { hubCounter, hubGauge } from './hub-metrics';
import { type MetricsListener, startMetricsListener } from './metrics-listener';

/** A logger whose lines the test reads. */
function recordingLogger() {
  const lines: { level: number; msg: string; err?: string }[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

describe('the metrics listener', () => {
  let registry: Registry;
  let listener: MetricsListener | null;
  const { logger, lines } = recordingLogger();

  beforeEach(async () => {
    registry = new Registry();
    hubCounter(registry, { name: 'hub_test_started_total', help: 'Containers started', labels: {} }).inc();
  });
  afterEach(async () => {
    await listener?.close();
    listener = null;
  });

  /** A listener on a free port (port 0 means none). */
  const started = async (): Promise<MetricsListener> => {
    const ephemeral = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    listener = await startMetricsListener({ port: ephemeral, logger, registry });
    return listener!;
  };

  it('is not started without a port, or with port 0', async () => {
    expect(await startMetricsListener({ logger, registry })).toBeNull();
    expect(await startMetricsListener({ port: 0, logger, registry })).toBeNull();
  });

  it("answers GET /metrics with every metric in Prometheus's text format, on loopback", async () => {
    const { url } = await started();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    const response = await fetch(`${url}?format=text`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toContain('# HELP hub_test_started_total Containers started\n# TYPE hub_test_started_total counter\nhub_test_started_total 1\n');
  });

  it('answers 404 to anything else', async () => {
    const { url } = await started();
    const base = url.replace(/\/metrics$/, '');

    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics/x`)).status).toBe(404);
    expect((await fetch(`${base}/health`)).status).toBe(404);
    expect((await fetch(url, { method: 'POST', body: 'x' })).status).toBe(404);
  });

  it('answers 500 when a metric cannot be read, logs why, and goes on serving', async () => {
    let failing = true;
    hubGauge(registry, { name: 'hub_test_sessions', help: 'Sessions', labels: {} }, (gauge) => {
      if (failing) throw new Error('database unreachable');
      gauge.set({}, 2);
    });
    const { url } = await started();

    expect((await fetch(url)).status).toBe(500);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'metrics could not be collected', err: 'database unreachable' }));
    failing = false;
    expect(await (await fetch(url)).text()).toContain('hub_test_sessions 2');
  });

  it('does not stop the service when its port is taken: it says so and serves nothing', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      expect(await startMetricsListener({ port, logger, registry })).toBeNull();
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'metrics listener not started; the service runs without it' }));
    } finally {
      taken.close();
    }
  });
});
