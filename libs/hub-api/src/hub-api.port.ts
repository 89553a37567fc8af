import type { Readable } from 'node:stream';
import type {
  ApiKey,
  ApiKeyPage,
  AuditPage,
  CreateApiKeyRequest,
  CreatedApiKey,
  ListApiKeysQuery,
  ListAuditQuery,
  CreateOrchestrationRequest,
  ListNotificationDeliveriesQuery,
  NotificationDeliveryPage,
  CreateSessionRequest,
  DeletedOrchestration,
  DeletedSession,
  ListOrchestrationsQuery,
  LiveLogLine,
  ListSessionsQuery,
  OrchestrationPage,
  OrchestrationSummary,
  OrchestrationView,
  OrchestrationViewQuery,
  OrchestrationWait,
  ReadinessReport,
  RunnerList,
  SessionOutput,
  SessionPage,
  SessionStatus,
  SessionView,
  ContinueSessionRequest,
  UpdateOrchestrationRequest,
  UsageSummary,
  UsageSummaryQuery,
} from '@hub/contracts';
import type { SessionOutputWithContents } from './output-contents';

/** Which attempt's log to follow (default the latest), until `signal` aborts (the client went) at the latest. */
export interface LogFollowOptions {
  attempt?: number;
  signal?: AbortSignal;
}

/** A log or an output file, streamed (never held whole), with the type it is served as. */
export interface HubFile {
  content: Readable;
  contentType: string;
}

/** What `/health/ready` answers: every check, each with what is wrong and how to fix it. */
export type { ReadinessReport };

/**
 * What a read that waited answers: the view as it was when the wait ended, and whether what was
 * awaited had happened by then (false: it timed out, and `view` is the current state).
 */
export interface Waited<V> {
  view: V;
  reached: boolean;
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
  /**
   * Runs an ended session again (however it ended), with its dependents that did not complete;
   * conflict while it is on its way.
   */
  abstract rerunSession(sessionId: string): Promise<SessionView>;
  /**
   * A follow-up to a completed session in the same conversation: a new session that depends on it and
   * resumes its agent's conversation; conflict unless it completed.
   */
  abstract continueSession(sessionId: string, request: ContinueSessionRequest): Promise<SessionView>;
  /**
   * Deletes an ended session no session depends on (its outputs are removed soon after), and its
   * orchestration with it when it was the last; conflict, saying why, otherwise.
   */
  abstract deleteSession(sessionId: string): Promise<DeletedSession>;
  abstract getSession(sessionId: string): Promise<SessionView>;
  /** The session once it has ended (a terminal status), or as it is after `timeoutSeconds`. */
  abstract waitForSession(sessionId: string, timeoutSeconds: number): Promise<Waited<SessionView>>;
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
  /**
   * An attempt's stdout and stderr (default the latest attempt's), stored when its container exited;
   * not_found, saying why, before.
   */
  abstract sessionLog(sessionId: string, attempt?: number): Promise<HubFile>;
  /**
   * An attempt's output as it is printed (default the latest attempt; one not started yet is waited
   * for), line by line from its first, each line timed and marked with its stream, ending when the
   * attempt ends. not_found, before any line, when the session does not exist or the attempt cannot come.
   */
  abstract followSessionLog(sessionId: string, options?: LogFollowOptions): Promise<AsyncIterable<LiveLogLine>>;
  /** The unified diff of what the session changed in its git workspace (base..head); not_found when it changed nothing. */
  abstract sessionChanges(sessionId: string): Promise<HubFile>;

  /** Records it, then answers its view (as getOrchestration does). */
  abstract createOrchestration(request: CreateOrchestrationRequest): Promise<OrchestrationView>;
  /** The orchestration and a page of its sessions, read at one instant (see OrchestrationViewSchema). */
  abstract getOrchestration(orchestrationId: string, page?: OrchestrationViewQuery): Promise<OrchestrationView>;
  /**
   * Its view (as getOrchestration answers it) once it has ended (`terminal`: orchestration.finished)
   * or its `result` is recorded (`result`), or as it is after `timeoutSeconds`.
   */
  abstract waitForOrchestration(
    orchestrationId: string,
    until: OrchestrationWait,
    timeoutSeconds: number,
    page?: OrchestrationViewQuery,
  ): Promise<Waited<OrchestrationView>>;
  abstract listOrchestrations(query: ListOrchestrationsQuery): Promise<OrchestrationPage>;
  abstract startOrchestration(orchestrationId: string): Promise<OrchestrationSummary>;
  abstract cancelOrchestration(orchestrationId: string): Promise<OrchestrationSummary>;
  /**
   * Runs an ended orchestration again where it did not complete (its failed, timed-out, cancelled and
   * skipped sessions); conflict while it has not ended, or when nothing is to run again.
   */
  abstract retryOrchestration(orchestrationId: string): Promise<OrchestrationSummary>;
  /**
   * Deletes an orchestration whose every session has ended, with its sessions (their outputs and its
   * result are removed soon after); conflict naming the sessions that have not ended.
   */
  abstract deleteOrchestration(orchestrationId: string): Promise<DeletedOrchestration>;
  /** Replaces the orchestration's budget (null removes it); `retry` then runs what was skipped for the old one. */
  abstract updateOrchestration(orchestrationId: string, request: UpdateOrchestrationRequest): Promise<OrchestrationSummary>;
  /**
   * The unified diff of the orchestration's combined change (its result, made once every session
   * ended); not_found, saying why, when there is none (not ended yet, or nothing to combine).
   */
  abstract orchestrationChanges(orchestrationId: string): Promise<HubFile>;
  /** What the caller's tenant's orchestrations (created since `query.since`) spent, in total and per API key that created them. */
  abstract usageSummary(query: UsageSummaryQuery): Promise<UsageSummary>;

  /** What became of the notifications sent to the operator's webhooks: a page, newest first, without bodies. */
  abstract listNotificationDeliveries(query: ListNotificationDeliveriesQuery): Promise<NotificationDeliveryPage>;

  /** A new API key (admin), with its token: shown in this answer only. */
  abstract createApiKey(request: CreateApiKeyRequest): Promise<CreatedApiKey>;
  /** API keys (admin): every tenant's or one's, revoked ones too, newest first; never a token. */
  abstract listApiKeys(query: ListApiKeysQuery): Promise<ApiKeyPage>;
  /** Revokes a key (admin): its next request is refused. Revoking a revoked key changes nothing. */
  abstract revokeApiKey(keyId: string): Promise<ApiKey>;
  /** The audit log (admin): who (key name) did what write on what, newest first. */
  abstract listAudit(query: ListAuditQuery): Promise<AuditPage>;

  /** Whether Hub can serve requests: every service and what it depends on. */
  abstract readiness(): Promise<ReadinessReport>;
  /** The runners the registry knows: alive or lost (their lease lapsed), labels, slots, last seen, the sessions each holds. */
  abstract listRunners(): Promise<RunnerList>;
}
