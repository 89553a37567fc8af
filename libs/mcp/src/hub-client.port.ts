import type {
  CreateOrchestrationRequest,
  CreateSessionRequest,
  ListSessionsQuery,
  OrchestrationView,
  SessionOutput,
  SessionPage,
  SessionView,
} from '@hub/contracts';

/**
 * What the MCP tools need from Hub, in Hub's own contract shapes. Two implementations: RpcHubClient
 * inside the gateway (NATS request/reply and the object store) and HttpHubClient in the stdio
 * binary (the gateway's REST API). A refusal is thrown as a HubError (or, over HTTP, a
 * HubHttpError) whose message is the one the REST API gives; the tools pass it on as it is.
 */
export interface HubClient {
  createSession(request: CreateSessionRequest): Promise<SessionView>;
  startSession(sessionId: string): Promise<SessionView>;
  getSession(sessionId: string): Promise<SessionView>;
  listSessions(query: ListSessionsQuery): Promise<SessionPage>;
  cancelSession(sessionId: string): Promise<SessionView>;
  getSessionOutput(sessionId: string): Promise<SessionOutput>;
  /** One file of the session's output listing, as bytes. */
  readOutputFile(sessionId: string, path: string): Promise<Buffer>;
  /** The container's stdout and stderr, stored when it exited. */
  getSessionLogs(sessionId: string): Promise<string>;
  /** The orchestration with its sessions, in the order declared. */
  createOrchestration(request: CreateOrchestrationRequest): Promise<OrchestrationView>;
}

/**
 * A refusal the gateway answers itself over HTTP (401, 413, 415): not one of the error codes
 * services exchange, but its message is meant for the caller all the same.
 */
export class HubHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HubHttpError';
  }
}
