import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  type AnswerOf,
  ApiKey,
  ApiKeyPage,
  AuditPage,
  CreateApiKeyRequest,
  CreatedApiKey,
  ListApiKeysQuery,
  ListAuditQuery,
  CreateOrchestrationRequest,
  CreateSessionRequest,
  DeletedOrchestration,
  DeletedSession,
  ERROR_CODES,
  type ErrorBody,
  ErrorBodySchema,
  type ErrorCode,
  HTTP_ROUTES,
  type HttpRoute,
  HubError,
  isJsonBody,
  isRefusal,
  ListNotificationDeliveriesQuery,
  ListOrchestrationsQuery,
  NotificationDeliveryPage,
  ListSessionsQuery,
  LiveLogLine,
  LiveLogLineSchema,
  OrchestrationPage,
  OrchestrationSummary,
  OrchestrationView,
  OrchestrationViewQuery,
  OrchestrationWait,
  pathOf,
  queryStringOf,
  type RouteInput,
  RunnerList,
  SessionOutput,
  SessionPage,
  SessionStatus,
  SessionView,
  unavailable,
  WAIT_HEADER,
  ContinueSessionRequest,
  UpdateOrchestrationRequest,
  UsageSummary,
  UsageSummaryQuery,
} from '@hub/contracts';
import { collectSessions } from './collect-sessions';
import { followEvents, HubEventFilter, HubEventOptions, HubEventStream, HubStreamEvent } from './event-stream';
import { HubApi, HubFile, LogFollowOptions, ReadinessReport, SessionFilter, Waited } from './hub-api.port';
import { HttpProblem } from './http-problem';
import { ndjsonLines } from './ndjson-lines';
import { SessionOutputWithContents, withInlinedContents } from './output-contents';

export interface HttpHubApiOptions {
  /** The gateway, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  apiToken: string;
  /** Per request; creating a large orchestration is the slowest call. Default 60 s. */
  timeoutMs?: number;
  /** Default the global fetch (tests give a stand-in). */
  fetch?: typeof fetch;
}

/** How one request is made, beyond what the route says. */
interface SendOptions {
  /** Default the client's; null: no time limit (a followed log lasts as long as its attempt). */
  timeoutMs?: number | null;
  signal?: AbortSignal;
  accept?: string;
  headers?: Record<string, string>;
}

const routes = HTTP_ROUTES;
const isErrorCode = (code: string): code is ErrorCode => (ERROR_CODES as readonly string[]).includes(code);

/**
 * HubApi through the gateway's HTTP API, for the `hub` CLI and the stdio `hub-mcp` binary. Every
 * request is built from the contracts' routes catalog (HTTP_ROUTES: method, path, query, body), the
 * one the gateway's OpenAPI document is generated from, and every answer is parsed with the schema
 * the route declares for its status, so client and document cannot drift. Any other answer becomes
 * the HubError the gateway made of it (same code, same message), or an HttpProblem for the gateway's
 * own refusals (401, 413, 415).
 */
export class HttpHubApi extends HubApi implements HubEventStream {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpHubApiOptions) {
    super();
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  createSession(request: CreateSessionRequest): Promise<SessionView> {
    return this.call(routes.createSession, { body: request });
  }

  startSession(sessionId: string): Promise<SessionView> {
    return this.call(routes.startSession, { params: { id: sessionId } });
  }

  cancelSession(sessionId: string): Promise<SessionView> {
    return this.call(routes.cancelSession, { params: { id: sessionId } });
  }

  deleteSession(sessionId: string): Promise<DeletedSession> {
    return this.call(routes.deleteSession, { params: { id: sessionId } });
  }

  rerunSession(sessionId: string): Promise<SessionView> {
    return this.call(routes.rerunSession, { params: { id: sessionId } });
  }

  continueSession(sessionId: string, request: ContinueSessionRequest): Promise<SessionView> {
    return this.call(routes.continueSession, { params: { id: sessionId }, body: request });
  }

  getSession(sessionId: string): Promise<SessionView> {
    return this.call(routes.getSession, { params: { id: sessionId } });
  }

  async waitForSession(sessionId: string, timeoutSeconds: number): Promise<Waited<SessionView>> {
    const input = { params: { id: sessionId }, query: { wait: 'terminal', timeoutSeconds } } as const;
    return this.waited(routes.getSession, input, timeoutSeconds);
  }

  listSessions(query: ListSessionsQuery): Promise<SessionPage> {
    return this.call(routes.listSessions, { query });
  }

  collectSessions(filter: SessionFilter, max: number): Promise<SessionView[]> {
    return collectSessions((query) => this.listSessions(query), filter, max);
  }

  /** The REST API has no statuses route: each session is read, a few at a time. */
  async sessionStatuses(sessionIds: string[]): Promise<{ sessionId: string; status: SessionStatus }[]> {
    const statuses: { sessionId: string; status: SessionStatus }[] = [];
    for (let i = 0; i < sessionIds.length; i += 8) {
      const sessions = await Promise.all(
        sessionIds.slice(i, i + 8).map((id) =>
          this.getSession(id).catch((error: unknown) => {
            if (error instanceof HubError && error.code === 'not_found') return null;
            throw error;
          }),
        ),
      );
      for (const session of sessions) if (session) statuses.push({ sessionId: session.id, status: session.status });
    }
    return statuses;
  }

  getSessionOutput(sessionId: string): Promise<SessionOutput> {
    return this.call(routes.getSessionOutput, { params: { id: sessionId } });
  }

  async getSessionOutputWithContents(sessionId: string): Promise<SessionOutputWithContents> {
    return withInlinedContents(await this.getSessionOutput(sessionId), (path) => this.readOutputFile(sessionId, path));
  }

  async readOutputFile(sessionId: string, path: string): Promise<HubFile> {
    return this.file(await this.send(routes.readOutputFile, { params: { id: sessionId, path } }));
  }

  async sessionLog(sessionId: string, attempt?: number): Promise<HubFile> {
    return this.file(await this.send(routes.sessionLog, { params: { id: sessionId }, query: { attempt } }));
  }

  /** `logs?follow=true` as NDJSON, read as it comes: no time limit but the caller's signal (a follow lasts as long as the attempt). */
  async followSessionLog(sessionId: string, options: LogFollowOptions = {}): Promise<AsyncIterable<LiveLogLine>> {
    const input = { params: { id: sessionId }, query: { follow: 'true', attempt: options.attempt } } as const;
    const response = await this.send(routes.sessionLog, input, { timeoutMs: null, signal: options.signal, accept: 'application/x-ndjson' });
    return ndjsonLines(this.file(response).content, LiveLogLineSchema);
  }

  async sessionChanges(sessionId: string): Promise<HubFile> {
    return this.file(await this.send(routes.sessionChanges, { params: { id: sessionId } }));
  }

  createOrchestration(request: CreateOrchestrationRequest): Promise<OrchestrationView> {
    return this.call(routes.createOrchestration, { body: request });
  }

  getOrchestration(orchestrationId: string, page: OrchestrationViewQuery = {}): Promise<OrchestrationView> {
    return this.call(routes.getOrchestration, { params: { id: orchestrationId }, query: page });
  }

  waitForOrchestration(
    orchestrationId: string,
    until: OrchestrationWait,
    timeoutSeconds: number,
    page: OrchestrationViewQuery = {},
  ): Promise<Waited<OrchestrationView>> {
    const input = { params: { id: orchestrationId }, query: { ...page, wait: until, timeoutSeconds } };
    return this.waited(routes.getOrchestration, input, timeoutSeconds);
  }

  listOrchestrations(query: ListOrchestrationsQuery): Promise<OrchestrationPage> {
    return this.call(routes.listOrchestrations, { query });
  }

  startOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    return this.call(routes.startOrchestration, { params: { id: orchestrationId } });
  }

  cancelOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    return this.call(routes.cancelOrchestration, { params: { id: orchestrationId } });
  }

  retryOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    return this.call(routes.retryOrchestration, { params: { id: orchestrationId } });
  }

  deleteOrchestration(orchestrationId: string): Promise<DeletedOrchestration> {
    return this.call(routes.deleteOrchestration, { params: { id: orchestrationId } });
  }

  updateOrchestration(orchestrationId: string, request: UpdateOrchestrationRequest): Promise<OrchestrationSummary> {
    return this.call(routes.updateOrchestration, { params: { id: orchestrationId }, body: request });
  }

  usageSummary(query: UsageSummaryQuery): Promise<UsageSummary> {
    return this.call(routes.usageSummary, { query });
  }

  async orchestrationChanges(orchestrationId: string): Promise<HubFile> {
    return this.file(await this.send(routes.orchestrationChanges, { params: { id: orchestrationId } }));
  }

  /**
   * `GET /api/v1/events`, followed across dropped connections (each made again with `Last-Event-ID`):
   * see followEvents. A refusal (404 for an unknown orchestration, or a gateway without the route) is
   * thrown by the first read.
   */
  events(filter: HubEventFilter, options: HubEventOptions = {}): AsyncGenerator<HubStreamEvent> {
    const query = { orchestrationId: filter.orchestrationId, sessionId: filter.sessionId, type: filter.types?.join(',') };
    return followEvents(async (after, signal) => {
      const headers: Record<string, string> = after === undefined ? {} : { 'last-event-id': after };
      const response = await this.send(routes.streamEvents, { query }, { timeoutMs: null, signal, accept: 'text/event-stream', headers });
      const type = response.headers.get('content-type') ?? '';
      if (!response.body || !type.startsWith('text/event-stream')) {
        throw new HttpProblem(response.status, 'http_error', `the Hub gateway answered ${type || 'nothing'} where its event stream was expected`);
      }
      return response.body as AsyncIterable<Uint8Array>;
    }, options);
  }

  listNotificationDeliveries(query: ListNotificationDeliveriesQuery): Promise<NotificationDeliveryPage> {
    return this.call(routes.listNotificationDeliveries, { query });
  }

  createApiKey(request: CreateApiKeyRequest): Promise<CreatedApiKey> {
    return this.call(routes.createApiKey, { body: request });
  }

  listApiKeys(query: ListApiKeysQuery): Promise<ApiKeyPage> {
    return this.call(routes.listApiKeys, { query });
  }

  revokeApiKey(keyId: string): Promise<ApiKey> {
    return this.call(routes.revokeApiKey, { params: { id: keyId } });
  }

  listAudit(query: ListAuditQuery): Promise<AuditPage> {
    return this.call(routes.listAudit, { query });
  }

  /** The route declares the report as its answer with 503 as well as with 200. */
  readiness(): Promise<ReadinessReport> {
    return this.call(routes.readiness, {});
  }

  listRunners(): Promise<RunnerList> {
    return this.call(routes.listRunners, {});
  }

  private file(response: Response): HubFile {
    return {
      content: response.body ? Readable.fromWeb(response.body as WebReadableStream) : Readable.from([]),
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
    };
  }

  /** A `?wait=` read: the gateway may hold it for `timeoutSeconds`, on top of the usual time to answer. */
  private async waited<R extends HttpRoute>(route: R, input: RouteInput<R>, timeoutSeconds: number): Promise<Waited<AnswerOf<R>>> {
    const response = await this.send(route, input, { timeoutMs: this.timeoutMs + timeoutSeconds * 1000 });
    return { view: await this.parsed(route, response), reached: response.headers.get(WAIT_HEADER) !== 'timed-out' };
  }

  /** A request whose answer is JSON: parsed with the schema the route declares for its status. */
  private async call<R extends HttpRoute>(route: R, input: RouteInput<R>): Promise<AnswerOf<R>> {
    return this.parsed(route, await this.send(route, input));
  }

  private async parsed<R extends HttpRoute>(route: R, response: Response): Promise<AnswerOf<R>> {
    const answer = route.responses[response.status];
    if (isRefusal(answer) || !isJsonBody(answer?.body)) {
      throw new Error(`${route.method.toUpperCase()} ${route.path} answers ${response.status} with no JSON to parse`);
    }
    return answer.body.json.parse(await response.json()) as AnswerOf<R>;
  }

  /** One request on a route; an answer the route does not declare is thrown as the error the gateway describes in its body. */
  private async send<R extends HttpRoute>(route: R, input: RouteInput<R>, options: SendOptions = {}): Promise<Response> {
    const { timeoutMs = this.timeoutMs, signal, accept = 'application/json, text/plain, */*', headers = {} } = options;
    const limits = [signal, timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs)].filter((s): s is AbortSignal => !!s);
    const url = `${this.baseUrl}${pathOf(route, input.params as Record<string, string> | undefined)}${queryStringOf(input.query ?? {})}`;
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(url, {
        method: route.method.toUpperCase(),
        headers: {
          ...(route.auth === 'none' ? {} : { authorization: `Bearer ${this.options.apiToken}` }),
          accept,
          ...headers,
          ...(input.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: input.body === undefined ? undefined : JSON.stringify(input.body),
        signal: limits.length ? AbortSignal.any(limits) : undefined,
      });
    } catch (error) {
      throw this.unreachable(error, timeoutMs);
    }
    if (response.ok || (route.responses[response.status] && !isRefusal(route.responses[response.status]))) return response;
    throw await this.refusal(response);
  }

  private unreachable(error: unknown, timeoutMs: number | null): HubError {
    if ((error as Error).name === 'TimeoutError') {
      return unavailable(`the Hub gateway at ${this.baseUrl} did not answer within ${timeoutMs} ms`);
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    return unavailable(`cannot reach the Hub gateway at ${this.baseUrl} (${why}); is Hub running? (npm run hub)`);
  }

  private async refusal(response: Response): Promise<Error> {
    const text = await response.text();
    let parsed: ErrorBody | undefined;
    try {
      parsed = ErrorBodySchema.parse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (!parsed) {
      return new HttpProblem(response.status, 'http_error', `the Hub gateway answered HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    return isErrorCode(parsed.error)
      ? new HubError(parsed.error, parsed.message, parsed.details)
      : new HttpProblem(response.status, parsed.error, parsed.message);
  }
}
