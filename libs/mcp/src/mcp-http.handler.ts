import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { HubLogger } from '@hub/config';
import type { Scope } from '@hub/contracts';
import type { HubApi } from '@hub/hub-api';
import { createHubMcpServer } from './hub-mcp.server';

/** Where the gateway serves MCP over streamable HTTP (behind the same bearer token as /api/v1). */
export const MCP_HTTP_PATH = 'mcp';

/**
 * Answers one MCP request (a JSON-RPC message POSTed to /mcp) in stateless mode: a new server and
 * transport for this request only, closed when its response is. Stateless because every Hub tool
 * is a plain request/answer (nothing is pushed to the client later), so a session would hold
 * nothing worth keeping: no session map to grow or expire, no sticky routing between gateway
 * instances, and a gateway restart loses no client. Building the server costs microseconds.
 *
 * The gateway has already parsed the JSON body (express.json, with its size limit), so it is
 * passed on: the request stream is consumed. Answers are plain JSON rather than an SSE stream.
 * `scope`: the caller's key's; a tool it does not allow is refused (createHubMcpServer).
 */
export async function serveMcpHttpRequest(
  req: IncomingMessage & { body?: unknown },
  res: ServerResponse,
  hub: HubApi,
  logger: HubLogger,
  scope: Scope,
): Promise<void> {
  const server = createHubMcpServer(hub, logger, scope);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  transport.onerror = (error) => logger.warn({ err: error }, 'mcp transport error');
  res.once('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
}

/**
 * GET (a stream of server-initiated messages) and DELETE (end a session) have no meaning without
 * sessions: 405, as the streamable HTTP transport specifies for a server that offers neither.
 */
export function refuseMcpMethod(res: ServerResponse): void {
  res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Method not allowed: this MCP endpoint is stateless; POST JSON-RPC messages to it' },
      id: null,
    }),
  );
}
