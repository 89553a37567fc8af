import { HttpProblem } from '@hub/hub-api';

/**
 * An HTTP-only failure the gateway answers itself (401, 413, 415...): the error codes a HubError
 * carries are the ones services exchange over NATS, and these never cross NATS. Defined beside the
 * port (@hub/hub-api), whose implementations raise it too (413 for a request NATS cannot carry).
 */
export { HttpProblem };

/** 401, with the scheme (and realm) the client is to answer with: `Bearer`, or `Basic realm="Hub"` for git. */
export const unauthorized = (message: string, challenge = 'Bearer') =>
  new HttpProblem(401, 'unauthorized', message, { 'WWW-Authenticate': challenge });
