import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { Request, Response } from 'express';
import { HubLogger } from '@hub/config';
import { type ErrorBody, HTTP_STATUS_OF, HubError } from '@hub/contracts';
import { HttpProblem } from './http-problem.error';

/** Codes for the HttpExceptions Nest and express raise themselves (unknown route, bad %-encoding). */
const CODE_OF_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'unavailable',
};

/**
 * The one place an error becomes an HTTP answer, always JSON `{ error, message, details? }`:
 * a HubError keeps its code (HTTP_STATUS_OF gives the status), the gateway's own HttpProblems keep
 * theirs, and anything unexpected is a 500 that says nothing but is logged with its stack.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: HubLogger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const { status, body, headers } = this.answerFor(error, req);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).set(headers ?? {}).json(body);
  }

  private answerFor(error: unknown, req: Request): { status: number; body: ErrorBody; headers?: Record<string, string> } {
    if (error instanceof HubError) {
      const status = HTTP_STATUS_OF[error.code];
      if (status >= 500) this.logger.warn({ code: error.code, path: req.path, problem: error.message }, 'request failed');
      const details = error.details === undefined ? {} : { details: error.details };
      return { status, body: { error: error.code, message: error.message, ...details } };
    }
    if (error instanceof HttpProblem) {
      return { status: error.status, body: { error: error.code, message: error.message }, headers: error.headers };
    }
    if (error instanceof HttpException && error.getStatus() === HttpStatus.NOT_FOUND) {
      // Only Nest's router raises NotFoundException here (our code raises HubError): no route matched.
      return { status: 404, body: { error: 'not_found', message: `no route ${req.method} ${req.originalUrl.split('?')[0]}` } };
    }
    if (error instanceof HttpException && error.getStatus() < 500) {
      const status = error.getStatus();
      return { status, body: { error: CODE_OF_STATUS[status] ?? 'bad_request', message: error.message } };
    }
    this.logger.error({ err: error, method: req.method, path: req.path }, 'unexpected error');
    return { status: 500, body: { error: 'internal', message: 'internal error' } };
  }
}
