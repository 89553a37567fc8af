import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { DEFAULT_TENANT, type Caller } from '@hub/contracts';
import { CallerContext } from './auth/caller-context';
import { unauthorized } from './http-problem.error';

/** Who the bootstrap token (HUB_API_TOKEN, or the state dir's api-token) is: the operator's admin key. */
export const BOOTSTRAP_CALLER: Caller = { key: 'bootstrap', tenant: DEFAULT_TENANT, scope: 'admin' };

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Compares in constant time, whatever the lengths (both sides are hashed first). */
export function tokensMatch(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

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

/**
 * Guards every `/api/v1` request (and `/git`, with `schemes: 'git'`). It is express middleware mounted
 * before the body parser rather than a Nest CanActivate guard on purpose: Nest guards run after the
 * body is read and never run for unknown routes, so a client without the token could make the gateway
 * parse up to the body limit, and could probe which routes exist. Failures go to the global error filter.
 */
export function apiTokenGuard(expected: string, schemes: TokenSchemes = 'bearer'): RequestHandler {
  const refuse = (problem: string) => unauthorized(problem, challenges[schemes]);
  return (req: Request, _res: Response, next: NextFunction) => {
    const presented = readers[schemes](req.headers.authorization);
    if ('problem' in presented) return next(refuse(presented.problem));
    if (!tokensMatch(presented.token, expected)) return next(refuse('invalid API token'));
    CallerContext.runAs(BOOTSTRAP_CALLER, next);
  };
}
