/**
 * An HTTP-only failure the gateway answers itself (401, 413, 415...): the error codes a HubError
 * carries are the ones services exchange over NATS, and these never cross NATS.
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}

export const unauthorized = (message: string) =>
  new HttpProblem(401, 'unauthorized', message, { 'WWW-Authenticate': 'Bearer' });
