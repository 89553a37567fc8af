import type { Readable } from 'node:stream';
import type {
  CreateOrchestrationRequest,
  CreateSessionRequest,
  HealthCheck,
  ListOrchestrationsQuery,
  ListSessionsQuery,
  OrchestrationPage,
  OrchestrationSummary,
  OrchestrationView,
  OrchestrationViewQuery,
  SessionOutput,
  SessionPage,
  SessionStatus,
  SessionView,
} from '@hub/contracts';
import type { SessionOutputWithContents } from './output-contents';

/** A log or an output file, streamed (never held whole), with the type it is served as. */
export interface HubFile {
  content: Readable;
  contentType: string;
}

/** What `/health/ready` answers: every check, each with what is wrong and how to fix it. */
export interface ReadinessReport {
  status: 'ok' | 'unavailable';
  checks: HealthCheck[];
}

/** A listing's filters, without its paging. */
export type SessionFilter = Omit<ListSessionsQuery, 'limit' | 'cursor'>;

/**
 * Hub as every entrance sees it: the REST controllers, the MCP tools and the claude-hub mapping
 * depend on this port and on nothing else to reach Hub. Requests are the contracts' parsed shapes
 * (each entrance validates its own input first). A refusal is thrown as a HubError (a service's:
 * bad_request, not_found, conflict, unavailable) or an HttpProblem (the entrance's own, e.g. 413
 * for a request Hub's message bus cannot carry), with the message the REST API answers.
 *
 * Two implementations: NatsHubApi in the gateway (@hub/gateway-http), the only code that talks to
 * the registry over NATS and reads the object store, and so the one place of RPC timeouts (through
 * the RPC catalog), the bus size check, paging and object-store reads; HttpHubApi (here), the same
 * over the gateway's REST API, for the stdio `hub-mcp` binary. Rules both need (which output files
 * are inlined, how a listing is paged) are functions of this lib that both call.
 *
 * An abstract class rather than an interface so that Nest can inject it by its type.
 */
export abstract class HubApi {
  abstract createSession(request: CreateSessionRequest): Promise<SessionView>;
  abstract startSession(sessionId: string): Promise<SessionView>;
  abstract cancelSession(sessionId: string): Promise<SessionView>;
  abstract getSession(sessionId: string): Promise<SessionView>;
  /** One page, newest first. */
  abstract listSessions(query: ListSessionsQuery): Promise<SessionPage>;
  /** Every session `filter` matches, up to the newest `max`, oldest first (read page by page). */
  abstract collectSessions(filter: SessionFilter, max: number): Promise<SessionView[]>;
  /** The status of each of these sessions that exists. */
  abstract sessionStatuses(sessionIds: string[]): Promise<{ sessionId: string; status: SessionStatus }[]>;

  /** The exit code and the output listing (the runner's manifest). */
  abstract getSessionOutput(sessionId: string): Promise<SessionOutput>;
  /** The same, with the content of the small text files inlined (output-contents.ts says which). */
  abstract getSessionOutputWithContents(sessionId: string): Promise<SessionOutputWithContents>;
  /** One file of the output listing (only a listed path is served, so `..` reaches nothing). */
  abstract readOutputFile(sessionId: string, path: string): Promise<HubFile>;
  /** The container's stdout and stderr, stored when it exited; not_found, saying why, before. */
  abstract sessionLog(sessionId: string): Promise<HubFile>;
  /** The unified diff of what the session changed in its git workspace (base..head); not_found when it changed nothing. */
  abstract sessionChanges(sessionId: string): Promise<HubFile>;

  /** Records it, then answers its view (as getOrchestration does). */
  abstract createOrchestration(request: CreateOrchestrationRequest): Promise<OrchestrationView>;
  /** The orchestration and a page of its sessions, read at one instant (see OrchestrationViewSchema). */
  abstract getOrchestration(orchestrationId: string, page?: OrchestrationViewQuery): Promise<OrchestrationView>;
  abstract listOrchestrations(query: ListOrchestrationsQuery): Promise<OrchestrationPage>;
  abstract startOrchestration(orchestrationId: string): Promise<OrchestrationSummary>;
  abstract cancelOrchestration(orchestrationId: string): Promise<OrchestrationSummary>;

  /** Whether Hub can serve requests: every service and what it depends on. */
  abstract readiness(): Promise<ReadinessReport>;
}
