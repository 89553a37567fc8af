import { json, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { HttpProblem } from './http-problem.error';
import { badRequest } from '@hub/contracts';

/** Body-parser's errors are http-errors with a `type` naming what went wrong. */
interface BodyParserError extends Error {
  type: string;
  status: number;
  limit?: number;
}

const isBodyParserError = (error: unknown): error is BodyParserError =>
  error instanceof Error &&
  typeof (error as Partial<BodyParserError>).type === 'string' &&
  typeof (error as Partial<BodyParserError>).status === 'number';

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
    default:
      return badRequest(`cannot read the request body: ${error.message}`);
  }
}

/**
 * JSON bodies only, up to `limitBytes`: a body of another content type is refused with 415
 * (rather than silently ignored), and body-parser's errors become 400/413/415 answers.
 */
export function jsonBody(limitBytes: number): Array<RequestHandler | ErrorRequestHandler> {
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!hasBody(req) || req.is('application/json')) return next();
    const got = req.headers['content-type'] ?? 'no Content-Type';
    next(new HttpProblem(415, 'unsupported_media_type', `the request body must be application/json (got ${got})`));
  };
  const translate: ErrorRequestHandler = (error, _req, _res, next) => next(translateBodyParserError(error));
  return [requireJson, json({ limit: limitBytes }), translate];
}
