import { encodeJson } from '@hub/messaging';
import { HttpProblem } from './http-problem.error';

/**
 * Refuses, with 413, a request that NATS cannot carry to the service that handles it. NATS refuses
 * a payload over its max_payload (1 MiB by default), and a body under the HTTP limit can grow past
 * that once its schema has filled in the defaults (each of ten thousand short sessions of an
 * orchestration gains `type` and `dependsOn`). Without this the request fails on the bus and the
 * client gets a 503, as if a service were down, for a request that can never succeed.
 */
export function assertFitsOnBus(request: unknown, maxPayload: number | undefined, what: string): void {
  if (maxPayload === undefined) return;
  const bytes = encodeJson(request).length;
  if (bytes <= maxPayload) return;
  throw new HttpProblem(
    413,
    'payload_too_large',
    `${what} is ${bytes} bytes once its defaults are filled in; Hub's message bus (NATS) carries at most ${maxPayload}: split it or shorten it`,
  );
}
