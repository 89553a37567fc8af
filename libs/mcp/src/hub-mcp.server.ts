import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { HubLogger } from '@hub/config';
import { forbidden, type Scope, scopeAllows } from '@hub/contracts';
import type { HubApi } from '@hub/hub-api';
import { HUB_TOOLS, type HubTool } from './hub-tools';
import { publicMessageOf, toolError, toolResult } from './tool-result';

export const HUB_MCP_SERVER_NAME = 'hub';
export const HUB_MCP_SERVER_VERSION = '0.1.0';

const INSTRUCTIONS = [
  'Hub runs AI coding-agent sessions, each in its own container, with dependencies between them.',
  'A session gets a prompt; what it writes to /hub/output/ is its output; the outputs of the sessions it depends on are',
  'mounted read-only at /hub/inputs/<name>/. Create one session with create_session, or a whole DAG with',
  'create_orchestration (start: true to run it). Poll get_session_status (or list_sessions with orchestration_id) until',
  'each session is completed, failed, cancelled, timed_out or skipped, then read get_session_output and get_session_logs.',
].join(' ');

/** The scope a tool needs: read for those whose annotations say readOnlyHint, write for the others. */
export function toolScope(tool: Pick<HubTool, 'annotations'>): Scope {
  return tool.annotations.readOnlyHint ? 'read' : 'write';
}

/**
 * An MCP server with Hub's tools over `hub`. Cheap to build (the gateway builds one per HTTP
 * request). A tool never throws: a refusal comes back as a tool error with the REST API's message,
 * anything unexpected as "internal error" (logged), and the connection carries on. `scope`: the
 * caller's key's (the gateway's MCP endpoint), which refuses the tools it does not allow as tool
 * errors naming the scope; by default every tool is called (hub-mcp over REST: the gateway checks
 * each request's key itself).
 */
export function createHubMcpServer(hub: HubApi, logger: HubLogger, scope: Scope = 'admin'): McpServer {
  const server = new McpServer(
    { name: HUB_MCP_SERVER_NAME, title: 'Hub', version: HUB_MCP_SERVER_VERSION },
    { instructions: INSTRUCTIONS },
  );
  for (const definition of HUB_TOOLS as readonly HubTool[]) {
    server.registerTool(
      definition.name,
      {
        title: definition.title,
        description: definition.description,
        inputSchema: definition.input,
        outputSchema: definition.output,
        annotations: definition.annotations,
      },
      (args: unknown) => callTool(definition, hub, args as Record<string, unknown>, logger, scope),
    );
  }
  return server;
}

async function callTool(definition: HubTool, hub: HubApi, args: Record<string, unknown>, logger: HubLogger, scope: Scope): Promise<CallToolResult> {
  const started = Date.now();
  const line = { tool: definition.name, ...(typeof args['session_id'] === 'string' ? { sessionId: args['session_id'] } : {}) };
  try {
    const needed = toolScope(definition);
    if (!scopeAllows(scope, needed)) throw forbidden(scope, needed, `call ${definition.name}`);
    const result = toolResult(await definition.run(hub, args));
    logger.info({ ...line, ms: Date.now() - started }, 'mcp tool call');
    return result;
  } catch (error) {
    const message = publicMessageOf(error);
    if (message === undefined) {
      logger.error({ ...line, err: error }, 'mcp tool call failed unexpectedly');
      return toolError('internal error');
    }
    logger.info({ ...line, ms: Date.now() - started, problem: message }, 'mcp tool call refused');
    return toolError(message);
  }
}
