import { z } from 'zod';

/**
 * Errors cross service boundaries as data, never as exceptions: a request/reply answer is either
 * `{ ok: true, data }` or `{ ok: false, error }`. The gateway maps the code to an HTTP status.
 */
export const ERROR_CODES = ['bad_request', 'forbidden', 'not_found', 'conflict', 'unavailable', 'internal'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const HTTP_STATUS_OF: Record<ErrorCode, number> = {
  bad_request: 400,
  /** The caller's key may not do this (its scope), within its own tenant; another tenant's data is not_found. */
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

export const RpcErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: z.unknown().optional(),
});
export type RpcError = z.infer<typeof RpcErrorSchema>;

export type RpcResult<T> = { ok: true; data: T } | { ok: false; error: RpcError };

/** An error a use case raises on purpose; its code and message reach the client as they are. */
export class HubError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HubError';
  }

  toRpcError(): RpcError {
    return { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}

export const notFound = (what: string, id: string) => new HubError('not_found', `${what} ${id} does not exist`);
export const conflict = (message: string, details?: unknown) => new HubError('conflict', message, details);
export const badRequest = (message: string, details?: unknown) => new HubError('bad_request', message, details);
export const unavailable = (message: string, details?: unknown) => new HubError('unavailable', message, details);
