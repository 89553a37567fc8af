import { type RequestHandler, Router } from 'express';
import { HTTP_ROUTES } from '@hub/contracts';
import { HubLogger } from '@hub/config';
import { answerScrape, hubCounter, hubHistogram, type MetricsRegistry, METRICS_PATH, OTHER, processMetrics } from '@hub/metrics';
import { RouteScopes } from './auth/route-scopes';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** A status code, or `aborted`: the client went away before an answer was sent. */
const CODES = [...Array.from({ length: 500 }, (_, i) => String(100 + i)), 'aborted'];
/** From a quick read to a wait (?wait=terminal, up to 300 s); a stream (events, a followed log) lasts as long as it is followed. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** `GET /metrics` on the gateway's own port: no token, like /health (the metrics hold counts, never a session's data). */
export function metricsEndpoint(logger: HubLogger, registry: MetricsRegistry = processMetrics()): Router {
  const router = Router({ caseSensitive: true });
  router.get(METRICS_PATH, (_req, res) => void answerScrape(res, logger, registry));
  return router;
}

/**
 * Counts and times every request by its route in the catalog (its operationId, `other` for a path
 * the catalog does not have: never the path itself), method and status code. Scrapes of /metrics are
 * not counted: they would be most of `other`.
 */
export function httpMetrics(registry: MetricsRegistry = processMetrics(), routes = new RouteScopes()): RequestHandler {
  const labels = { route: Object.keys(HTTP_ROUTES), method: METHODS };
  const requests = hubCounter(registry, {
    name: 'hub_http_requests_total',
    help: 'HTTP requests answered, by route (the catalog operationId, or other), method and status code',
    labels: { ...labels, code: CODES },
  });
  const duration = hubHistogram(registry, {
    name: 'hub_http_request_duration_seconds',
    help: 'How long HTTP requests took, to the end of the answer, by route and method',
    labels,
    buckets: DURATION_BUCKETS,
  });
  return (req, res, next) => {
    const path = req.originalUrl.split('?')[0];
    if (req.method === 'GET' && path === METRICS_PATH) return next();
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const route = routes.operationOf(req.method, path) ?? OTHER;
      const code = res.headersSent ? res.statusCode : 'aborted';
      requests.inc({ route, method: req.method, code });
      duration.observe({ route, method: req.method }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
