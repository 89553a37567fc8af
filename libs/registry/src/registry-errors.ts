import { HubError, unavailable } from '@hub/contracts';

const UNIQUE_VIOLATION = '23505';
/** Text PostgreSQL cannot store (a U+0000 in a prompt, say): the client's input, not our failure. */
const BAD_TEXT_CODES = new Set(['22021', '22P05']);
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08006', '08001', '08003']);

/** Turns database failures into errors a client can act on: 503 while PostgreSQL is away. */
export function classifyRegistryError(error: unknown): HubError | undefined {
  const e = error as { code?: string; message?: string; detail?: string; driverError?: { code?: string } };
  const code = e?.code ?? e?.driverError?.code;
  if (code === UNIQUE_VIOLATION) {
    return new HubError('conflict', `already exists: ${e.detail ?? e.message}`);
  }
  if (code && BAD_TEXT_CODES.has(code)) {
    return new HubError('bad_request', `text that cannot be stored (such as U+0000): ${e.message}`);
  }
  if ((code && CONNECTION_ERROR_CODES.has(code)) || /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(e?.message ?? '')) {
    return unavailable(`the session database (PostgreSQL) is not reachable: ${e.message}; retry shortly`);
  }
  return undefined;
}
