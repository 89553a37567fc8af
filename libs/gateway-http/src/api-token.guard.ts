import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { unauthorized } from './http-problem.error';

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
 * Guards every `/api/v1` request. It is express middleware mounted before the body parser rather
 * than a Nest CanActivate guard on purpose: Nest guards run after the body is read and never run
 * for unknown routes, so a client without the token could make the gateway parse up to the body
 * limit, and could probe which routes exist. Failures go to the global error filter.
 */
export function apiTokenGuard(expected: string): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const bearer = bearerTokenOf(req.headers.authorization);
    if ('problem' in bearer) return next(unauthorized(bearer.problem));
    if (!tokensMatch(bearer.token, expected)) return next(unauthorized('invalid API token'));
    next();
  };
}
