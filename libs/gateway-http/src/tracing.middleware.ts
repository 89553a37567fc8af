import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import { HTTP_ROUTES } from '@hub/contracts';
import { extractTraceContext, type HeaderCarrier, openSpan, runWithin, SPAN_ATTRIBUTES, SpanKind, SpanStatusCode, tracingEnabled } from '@hub/tracing';
import { RouteScopes } from './auth/route-scopes';

/** A request's headers, read as a trace context carrier (a client's own `traceparent`). */
const requestHeaders = (headers: IncomingHttpHeaders): HeaderCarrier => ({
  get: (name) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  },
  set: () => undefined,
});

/**
 * Where a trace begins: each request for an operation of the routes catalog that needs a caller
 * (creating sessions and orchestrations, reading them, MCP, git…) is a server span,
 * `<METHOD> <catalog path>`, that continues the client's trace when it sends a `traceparent`, or
 * starts one. Everything the request asks of the services is under it. Its attributes: the method,
 * the catalog path (`http.route`), the operationId (`hub.route`, as hub_http_requests_total labels
 * it) and the status code; never the path itself, a query or a header. Probes, /metrics and the
 * API's description start no trace. Off when tracing is.
 */
export function httpTracing(routes = new RouteScopes()): RequestHandler {
  return (req, res, next) => {
    if (!tracingEnabled()) return next();
    const path = req.originalUrl.split('?')[0];
    const operation = routes.operationOf(req.method, path);
    if (!operation || !routes.of(req.method, path)) return next();
    const route = HTTP_ROUTES[operation as keyof typeof HTTP_ROUTES].path;
    const open = openSpan(`${req.method} ${route}`, {
      kind: SpanKind.SERVER,
      root: true,
      parent: extractTraceContext(requestHeaders(req.headers)),
      attributes: { [ATTR_HTTP_REQUEST_METHOD]: req.method, [ATTR_HTTP_ROUTE]: route, [SPAN_ATTRIBUTES.route]: operation },
    });
    if (!open) return next();
    res.once('close', () => {
      if (!res.headersSent) open.span.setAttribute(SPAN_ATTRIBUTES.errorType, 'aborted');
      else {
        open.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
        // A server span fails on a 5xx only: a 4xx is the client's mistake, answered as it should be.
        if (res.statusCode >= 500) {
          open.span.setAttribute(SPAN_ATTRIBUTES.errorType, String(res.statusCode));
          open.span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      open.span.end();
    });
    // The request's body is read, and the routes run, in the span: its listeners are bound to it.
    runWithin(open, next, [req, res]);
  };
}
