import { DASHBOARD_ASSETS_PATH, HTTP_ROUTES } from '@hub/contracts';
import type { HostileRequest } from './hostile-request';
import { isResponse, type Outcome, type RawResponse } from './raw-client';

const parseJson = (body: Buffer): unknown => {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
};

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The path a request reached, without an absolute-form prefix or the query. */
const pathOf = (request: HostileRequest) => request.path.replace(/^[a-z]+:\/\/[^/]*/i, '').split('?')[0];

/**
 * The paths the routes catalog serves without a token (`auth: 'none'`: health, /metrics, the API's
 * description, the dashboard's pages), as patterns (a trailing slash reaches the same route); and the
 * dashboard's assets. They hold no data.
 */
const OPEN_PATHS: RegExp[] = [
  ...Object.values(HTTP_ROUTES)
    .filter((route) => route.auth === 'none')
    .map((route) => new RegExp(`^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`, 'i')),
  new RegExp(`^${DASHBOARD_ASSETS_PATH}/`, 'i'),
];
const isOpenPath = (path: string) => OPEN_PATHS.some((open) => open.test(path));

/** Gateway errors (README: "Errors are JSON { error, message, details? }"). */
const isGatewayError = (body: unknown) => isRecord(body) && typeof body['error'] === 'string' && typeof body['message'] === 'string';

/** The MCP SDK's transport answers in JSON-RPC, which is what MCP clients read: `{ jsonrpc, error: { code, message }, id }`. */
const isJsonRpcError = (body: unknown) =>
  isRecord(body) && body['jsonrpc'] === '2.0' && isRecord(body['error']) && typeof body['error']['code'] === 'number' && typeof body['error']['message'] === 'string';

/** claude-hub's own envelope, which its clients read: a 400 for "no claude-hub request" (docs/claude-hub-compat.md). */
const isClaudeHubEnvelope = (body: unknown) =>
  isRecord(body) && typeof body['message'] === 'string' && typeof body['event'] === 'string' && Array.isArray(body['results']);

/**
 * What a 4xx body must be. Everywhere: the gateway's JSON `{ error, message }`. Two routes speak a
 * protocol of their own and answer some errors in it, which is what their clients parse:
 *  - /mcp: the MCP SDK's streamable HTTP transport answers transport-level errors (406 Accept, 400
 *    unparseable JSON-RPC or unsupported protocol version, 405 GET/DELETE) as JSON-RPC error
 *    objects; and its Node adapter (@hono/node-server) answers 400 with an empty body when it cannot
 *    build a URL from the request (no or an invalid Host header). Decided: both are fine, only there.
 *  - the claude-hub webhook: a body that is no claude-hub request gets claude-hub's envelope with 400.
 * Errors the gateway raises before the route (401, 413, 415, malformed HTTP) are `{ error, message }` there too.
 */
function errorBodyProblem(request: HostileRequest, response: RawResponse): string | undefined {
  if (request.method === 'HEAD') return undefined;
  const path = pathOf(request).toLowerCase();
  if (path.startsWith('/mcp') && response.status === 400 && response.body.length === 0 && request.expect.mayAnswerEmpty400) return undefined;
  const body = parseJson(response.body);
  if (isGatewayError(body)) return undefined;
  if (path.startsWith('/mcp') && isJsonRpcError(body)) return undefined;
  if (path.startsWith('/api/webhooks/claude') && response.status === 400 && isClaudeHubEnvelope(body)) return undefined;
  return `a ${response.status} whose body is not JSON { error, message }: ${JSON.stringify(response.body.toString('latin1').slice(0, 200))}`;
}

/** An MCP answer in which some tools/call result is not an error (or a JSON-RPC error). */
function mcpSucceeded(body: unknown): boolean {
  const answers = Array.isArray(body) ? body : [body];
  return answers.some((answer) => isRecord(answer) && isRecord(answer['result']) && answer['result']['isError'] !== true);
}

/** Everything wrong with one outcome; empty when it is fine. */
export function problemsWith(request: HostileRequest, outcome: Outcome): string[] {
  if (!isResponse(outcome)) {
    if (outcome.failure === 'timeout') return [`hang: ${outcome.detail}`];
    // Raw requests half-close their connection (so that nothing waits for bytes that never come), and Node's
    // HTTP server closes a half-closed connection whose answer is not ready yet (httpAllowHalfOpen is off), as
    // it does a CONNECT nothing listens for: no answer there is Node's choice. Hangs and 5xx still count.
    return request.expect.mayReset || request.raw ? [] : [`connection closed without an answer: ${outcome.detail}`];
  }
  const { status } = outcome;
  const problems: string[] = [];
  const text = () => JSON.stringify(outcome.body.toString('latin1').slice(0, 300));
  if (status >= 500 || status < 200) problems.push(`answered ${status}: ${text()}`);
  if (!request.authorized && status < 400 && !isOpenPath(pathOf(request))) {
    problems.push(`answered ${status} without the right token: ${text()}`);
  }
  if (status >= 400 && status < 500) {
    const problem = errorBodyProblem(request, outcome);
    if (problem) problems.push(problem);
  }
  const succeeded = status >= 200 && status < 300;
  const { createsNothing, outputFileContents } = request.expect;
  if (succeeded && createsNothing === 'rest' && request.method === 'POST') problems.push(`a create request was accepted (${status}): ${text()}`);
  if (succeeded && createsNothing === 'webhook') {
    const body = parseJson(outcome.body);
    const results = isRecord(body) && Array.isArray(body['results']) ? body['results'] : [];
    if (results.some((result) => isRecord(result) && result['success'] !== false)) problems.push(`a creating claude-hub request succeeded: ${text()}`);
  }
  if (succeeded && createsNothing === 'mcp' && outcome.body.length && mcpSucceeded(parseJson(outcome.body))) {
    problems.push(`a creating MCP tool call succeeded: ${text()}`);
  }
  if (succeeded && outputFileContents && request.method === 'GET' && !outputFileContents.includes(outcome.body.toString('utf8'))) {
    problems.push(`served something that is not a listed output file: ${text()}`);
  }
  return problems;
}
