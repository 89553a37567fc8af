import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { HubError } from '@hub/contracts';
import { HttpProblem } from '@hub/hub-api';

/** A tool's answer: the JSON as text (what every client shows) and as structured content. */
export function toolResult(data: object): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(data, null, 2) }],
    structuredContent: data as Record<string, unknown>,
  };
}

/**
 * The message a caller may see for a failure: a HubError's or the gateway's own refusal, exactly as
 * the REST API words it. Anything else is a fault of ours: like the REST API's 500, it says only
 * "internal error" (the caller logs the rest).
 */
export function publicMessageOf(error: unknown): string | undefined {
  if (error instanceof HubError || error instanceof HttpProblem) return error.message;
  return undefined;
}

/** A failure as an MCP tool error (`isError: true`): the client sees it, the connection goes on. */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}
