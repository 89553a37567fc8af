import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { HubLogger } from '@hub/config';
import { processMetrics } from './hub-metrics';

export const METRICS_PATH = '/metrics';
export const DEFAULT_METRICS_HOST = '127.0.0.1';

export interface MetricsListenerSettings {
  /** HUB_METRICS_PORT; unset or 0: no listener. */
  port?: number;
  /** HUB_METRICS_HOST; by default loopback only. */
  host?: string;
}

export interface MetricsListenerOptions extends MetricsListenerSettings {
  logger: HubLogger;
  /** Default: the process's (processMetrics). */
  registry?: Registry;
}

export interface MetricsListener {
  /** Where it answers: http://host:port/metrics. */
  url: string;
  close(): Promise<void>;
}

/** Answers a scrape: every metric in Prometheus's text format, or a 500 (logged) when they cannot be read. */
export async function answerScrape(res: ServerResponse, logger: HubLogger, registry: Registry = processMetrics()): Promise<void> {
  try {
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(text);
  } catch (error) {
    logger.error({ err: (error as Error).message }, 'metrics could not be collected');
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('metrics could not be collected\n');
  }
}

/**
 * A service's own HTTP listener for Prometheus: `GET /metrics`, and 404 for anything else. It never
 * stops the service: a port it cannot bind, or a scrape that fails, is logged and the service goes on
 * (null: no listener).
 */
export async function startMetricsListener(options: MetricsListenerOptions): Promise<MetricsListener | null> {
  if (!options.port) return null;
  const { logger } = options;
  const registry = options.registry ?? processMetrics();
  const host = options.host ?? DEFAULT_METRICS_HOST;
  const server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === METRICS_PATH) {
      void answerScrape(res, logger, registry);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`not found: only GET ${METRICS_PATH} is served here\n`);
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    logger.error({ port: options.port, host, err: (error as Error).message }, 'metrics listener not started; the service runs without it');
    return null;
  }
  server.on('error', (error) => logger.error({ err: error.message }, 'metrics listener error'));
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${METRICS_PATH}`;
  logger.info({ url }, 'metrics served');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
