import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type Caller, forbidden, scopeAllows } from '@hub/contracts';
import { Authenticator, type Entrance } from './auth/authenticator';
import { CallerContext } from './auth/caller-context';
import { RouteScopes } from './auth/route-scopes';
import type { TenantRateLimiter } from './auth/tenant-rate-limiter';
import { unauthorized } from './http-problem.error';

/** The bearer token in an Authorization header, or why there is none. */
export function bearerTokenOf(header: string | undefined): { token: string } | { problem: string } {
  if (!header) return { problem: 'missing Authorization header; send "Authorization: Bearer <token>"' };
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? { token: match[1] } : { problem: 'the Authorization header must be "Bearer <token>"' };
}

/**
 * The token as git sends it: the password of HTTP Basic (any user name; git asks its credential
 * helper or the URL's `user:token@` for it when answered 401), or "Bearer <token>" (git's
 * `http.extraHeader`). Or why there is none.
 */
export function gitTokenOf(header: string | undefined): { token: string } | { problem: string } {
  if (!header) {
    return { problem: 'missing credentials; give the API token as the password (HTTP Basic, any user name) or send "Authorization: Bearer <token>"' };
  }
  if (/^Bearer[ \t]/i.test(header)) return bearerTokenOf(header);
  const basic = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (!basic) return { problem: 'the Authorization header must be "Basic <base64 of user:token>" or "Bearer <token>"' };
  const credentials = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = credentials.indexOf(':');
  const password = colon < 0 ? '' : credentials.slice(colon + 1);
  return password ? { token: password } : { problem: 'HTTP Basic credentials must be "<any user>:<API token>"' };
}

/** Which schemes a guarded path takes: the API's bearer token, or git's (Basic or Bearer, challenged with Basic). */
export type TokenSchemes = 'bearer' | 'git';

const readers = { bearer: bearerTokenOf, git: gitTokenOf } satisfies Record<TokenSchemes, (header: string | undefined) => unknown>;
const challenges: Record<TokenSchemes, string> = { bearer: 'Bearer', git: 'Basic realm="Hub"' };

export interface GuardOptions {
  /** The claude-hub endpoint also takes CLAUDE_WEBHOOK_SECRET. */
  entrance?: Entrance;
  /** Each tenant's requests a minute; none: no limit. */
  limiter?: TenantRateLimiter;
}

/** The scope each route needs, from the routes catalog. */
const ROUTE_SCOPES = new RouteScopes();

/**
 * Guards every `/api/v1` request (and the claude-hub endpoint, /mcp and `/git`, with `schemes:
 * 'git'`): who the token is (Authenticator: the bootstrap token, an API key, the claude-hub secret;
 * else 401), whether the tenant is within its rate (else 429 with Retry-After), whether the key's
 * scope allows the route (the routes catalog's scope; else 403), then the rest of the request runs
 * as that caller (CallerContext). It is express middleware mounted before the body parser rather
 * than a Nest CanActivate guard on purpose: Nest guards run after the body is read and never run for
 * unknown routes, so a client without the token could make the gateway parse up to the body limit,
 * and could probe which routes exist. Failures go to the global error filter.
 * `auth` is the Authenticator, or the bootstrap token alone (a gateway that knows no API key).
 */
export function apiTokenGuard(auth: Authenticator | string, schemes: TokenSchemes = 'bearer', options: GuardOptions = {}): RequestHandler {
  const authenticator = typeof auth === 'string' ? new Authenticator({ bootstrapToken: auth }) : auth;
  const refuse = (problem: string) => unauthorized(problem, challenges[schemes]);

  const admit = async (req: Request): Promise<Caller> => {
    const presented = readers[schemes](req.headers.authorization);
    if ('problem' in presented) throw refuse(presented.problem);
    const caller = await authenticator.callerOf(presented.token, options.entrance);
    if ('problem' in caller) throw refuse(caller.problem);
    options.limiter?.admit(caller.tenant);
    const route = ROUTE_SCOPES.of(req.method, `${req.baseUrl}${req.path}`);
    if (route && !scopeAllows(caller.scope, route.scope)) throw forbidden(caller.scope, route.scope, route.route);
    return caller;
  };

  return (req: Request, _res: Response, next: NextFunction) => {
    admit(req).then((caller) => CallerContext.runAs(caller, next), next);
  };
}
