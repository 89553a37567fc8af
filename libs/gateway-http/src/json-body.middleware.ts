import { json, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { HttpProblem } from './http-problem.error';
import { badRequest } from '@hub/contracts';

/**
 * Body-parser's errors are http-errors with a status and mostly a `type` naming what went wrong;
 * those from decoding the Content-Encoding (zlib's "incorrect header check") have no `type`.
 */
interface BodyParserError extends Error {
  type?: string;
  status: number;
  code?: string;
  limit?: number;
}

const isBodyParserError = (error: unknown): error is BodyParserError =>
  error instanceof Error && !(error instanceof HttpProblem) && typeof (error as Partial<BodyParserError>).status === 'number';

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Turns what body-parser rejects into the answer a client can act on; anything else passes on. */
export function translateBodyParserError(error: unknown): unknown {
  if (!isBodyParserError(error) || error.status >= 500) return error;
  switch (error.type) {
    case 'entity.too.large':
      return new HttpProblem(413, 'payload_too_large', `request body is larger than the limit of ${error.limit} bytes`);
    case 'entity.parse.failed':
      return badRequest(`body is not valid JSON: ${error.message}`);
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpProblem(415, 'unsupported_media_type', error.message);
    default: {
      const hint = error.code?.startsWith('Z_') ? ' (it is not encoded as its Content-Encoding says)' : '';
      return badRequest(`cannot read the request body: ${error.message}${hint}`);
    }
  }
}

/**
 * Where the first U+0000 in a parsed body is (`sessions.0.prompt`), if any. PostgreSQL text cannot
 * hold it, so such a body could only fail later, deep in a service. Iterative, and the path is only
 * built once found: bodies may nest a hundred thousand levels deep.
 */
export function nulPathIn(body: unknown): string | undefined {
  type Step = { value: unknown; key: string; parent?: Step };
  const pathOf = (step: Step) => {
    const keys: string[] = [];
    for (let s: Step | undefined = step; s?.parent; s = s.parent) keys.push(s.key);
    return keys.reverse().join('.') || '(body)';
  };
  const stack: Step[] = [{ value: body, key: '' }];
  for (let step = stack.pop(); step; step = stack.pop()) {
    if (typeof step.value === 'string') {
      if (step.value.includes('\0')) return pathOf(step);
    } else if (typeof step.value === 'object' && step.value !== null) {
      for (const [key, value] of Object.entries(step.value)) {
        const child = { value, key, parent: step };
        if (key.includes('\0')) return pathOf(child);
        stack.push(child);
      }
    }
  }
  return undefined;
}

/**
 * JSON bodies only, up to `limitBytes`: a body of another content type is refused with 415
 * (rather than silently ignored), body-parser's errors become 400/413/415 answers, and a body with
 * U+0000 in a string or key is a 400 naming where.
 */
export function jsonBody(limitBytes: number): Array<RequestHandler | ErrorRequestHandler> {
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!hasBody(req) || req.is('application/json')) return next();
    const got = req.headers['content-type'] ?? 'no Content-Type';
    next(new HttpProblem(415, 'unsupported_media_type', `the request body must be application/json (got ${got})`));
  };
  const translate: ErrorRequestHandler = (error, _req, _res, next) => next(translateBodyParserError(error));
  const refuseNul: RequestHandler = (req, _res, next) => {
    const path = nulPathIn(req.body);
    if (path === undefined) return next();
    const why = 'must not contain U+0000 (NUL): Hub stores text in PostgreSQL, which cannot hold it';
    next(badRequest(`${path}: ${why}`, [{ path, message: why }]));
  };
  return [requireJson, json({ limit: limitBytes }), translate, refuseNul];
}
