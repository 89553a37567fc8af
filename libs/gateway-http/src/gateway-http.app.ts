import { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { RequestHandler } from 'express';
import { HubLogger, PinoNestLogger } from '@hub/config';
import { RPC } from '@hub/contracts';
import { RpcClient } from '@hub/messaging';
import { apiTokenGuard, type TokenSchemes } from './api-token.guard';
import { Authenticator, type Entrance } from './auth/authenticator';
import { DEFAULT_TENANT_REQUESTS_PER_MINUTE, TenantRateLimiter, type TenantRates } from './auth/tenant-rate-limiter';
import { apiDocsRouter } from './api-docs/api-docs.router';
import { dashboardRouter } from './dashboard/dashboard.router';
import { API_PREFIX, GIT_HTTP_PREFIX } from './gateway-http.tokens';
import { GitSmartHttp } from './git/git-smart-http';
import { CLAUDE_HUB_WEBHOOK_PATH } from './claude-hub/claude-hub.schemas';
import { answerClientErrorsInJson, requireHostHeader } from './client-errors';
import { HttpErrorFilter } from './http-error.filter';
import { httpMetrics, metricsEndpoint } from './http-metrics.middleware';
import { httpTracing } from './tracing.middleware';
import { jsonBody } from './json-body.middleware';
import { requestLog } from './request-log.middleware';

/** Browsers must not guess a type for output files served as application/octet-stream. */
const noSniff: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  next();
};

export interface GatewayHttpOptions {
  /** The bootstrap token: the admin key `bootstrap` of the default tenant. */
  apiToken: string;
  maxBodyBytes: number;
  logger: HubLogger;
  /** CLAUDE_WEBHOOK_SECRET: the claude-hub endpoint takes it as the caller `claude-hub` (write) of `tenant`. */
  claudeWebhook?: { secret: string; tenant: string };
  /** Requests a minute per tenant (HUB_TENANT_REQUESTS_PER_MINUTE); default DEFAULT_TENANT_REQUESTS_PER_MINUTE each. */
  tenantRates?: TenantRates;
  /** Where the dashboard's build is (HUB_DASHBOARD_DIR); default dashboardDirectory(). */
  dashboardDir?: string;
}

/**
 * Creates the gateway's Nest app around `rootModule` (its controllers, and GatewayHttpModule), not
 * yet listening. Order matters: request log, HTTP metrics and the request's span, then /metrics, the API's description and
 * the dashboard's pages (no token), then the
 * guard (who the token is, the tenant's rate, the route's scope) on /api/v1, the claude-hub webhook,
 * /mcp and /git (git's Basic credentials too), then `git fetch` (GitSmartHttp, whose bodies are git's, streamed to git http-backend), then
 * the JSON body (with our own limit; Nest's parser is off), then the routes; every error reaches
 * HttpErrorFilter.
 * What Node's HTTP parser refuses before express sees it is answered in the same JSON (client-errors.ts).
 */
export async function createGatewayHttpApp(rootModule: DynamicModule, options: GatewayHttpOptions): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(rootModule, {
    logger: new PinoNestLogger(options.logger),
    bodyParser: false,
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestLog(options.logger));
  app.use(httpMetrics());
  app.use(httpTracing()); // a trace per request for an operation, when tracing is on
  app.use(requireHostHeader);
  app.use(noSniff);
  app.use(metricsEndpoint(options.logger)); // GET /metrics: no token, like /health
  app.use(apiDocsRouter()); // /api/openapi.json and /api/docs: no token, they hold no data
  app.use(dashboardRouter(options.dashboardDir)); // the dashboard's pages and assets: no token, they hold no data (its API calls carry it)
  const rpc = app.get(RpcClient);
  const authenticator = new Authenticator({
    bootstrapToken: options.apiToken,
    claudeWebhook: options.claudeWebhook,
    verifyKey: async (token) => (await rpc.call(RPC.verifyApiKey, { token })).caller,
  });
  const limiter = new TenantRateLimiter(options.tenantRates ?? { perMinute: DEFAULT_TENANT_REQUESTS_PER_MINUTE, perTenant: {} });
  const guard = (schemes: TokenSchemes = 'bearer', entrance: Entrance = 'api') => apiTokenGuard(authenticator, schemes, { entrance, limiter });
  app.use(`/${API_PREFIX}`, guard());
  app.use(`/${CLAUDE_HUB_WEBHOOK_PATH}`, guard('bearer', 'claude-hub'));
  app.use('/mcp', guard()); // the MCP endpoint (@hub/mcp's MCP_HTTP_PATH)
  app.use(`/${GIT_HTTP_PREFIX}`, guard('git'), app.get(GitSmartHttp).router());
  app.use(...jsonBody(options.maxBodyBytes));
  app.useGlobalFilters(new HttpErrorFilter(options.logger));
  answerClientErrorsInJson(app.getHttpServer());
  return app;
}
