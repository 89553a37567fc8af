import { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { RequestHandler } from 'express';
import { HubLogger, PinoNestLogger } from '@hub/config';
import { apiTokenGuard } from './api-token.guard';
import { apiDocsRouter } from './api-docs/api-docs.router';
import { API_PREFIX, GIT_HTTP_PREFIX } from './gateway-http.tokens';
import { GitSmartHttp } from './git/git-smart-http';
import { CLAUDE_HUB_WEBHOOK_PATH } from './claude-hub/claude-hub.schemas';
import { answerClientErrorsInJson, requireHostHeader } from './client-errors';
import { HttpErrorFilter } from './http-error.filter';
import { jsonBody } from './json-body.middleware';
import { requestLog } from './request-log.middleware';

/** Browsers must not guess a type for output files served as application/octet-stream. */
const noSniff: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  next();
};

export interface GatewayHttpOptions {
  apiToken: string;
  maxBodyBytes: number;
  logger: HubLogger;
}

/**
 * Creates the gateway's Nest app around `rootModule` (its controllers, and GatewayHttpModule), not
 * yet listening. Order matters: request log, then the token check on /api/v1, the claude-hub webhook,
 * /mcp and /git (git's Basic credentials too), then `git fetch` (GitSmartHttp, whose bodies are git's,
 * streamed to git http-backend), then the JSON body (with our own limit; Nest's parser is off), then
 * the routes; every error reaches HttpErrorFilter.
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
  app.use(requireHostHeader);
  app.use(noSniff);
  app.use(apiDocsRouter()); // /api/openapi.json and /api/docs: no token, they hold no data
  app.use(`/${API_PREFIX}`, apiTokenGuard(options.apiToken));
  app.use(`/${CLAUDE_HUB_WEBHOOK_PATH}`, apiTokenGuard(options.apiToken));
  app.use('/mcp', apiTokenGuard(options.apiToken)); // the MCP endpoint (@hub/mcp's MCP_HTTP_PATH)
  app.use(`/${GIT_HTTP_PREFIX}`, apiTokenGuard(options.apiToken, 'git'), app.get(GitSmartHttp).router());
  app.use(...jsonBody(options.maxBodyBytes));
  app.useGlobalFilters(new HttpErrorFilter(options.logger));
  answerClientErrorsInJson(app.getHttpServer());
  return app;
}
