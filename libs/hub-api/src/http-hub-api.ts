import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { z } from 'zod';
import {
  CreateOrchestrationRequest,
  CreateSessionRequest,
  ERROR_CODES,
  type ErrorCode,
  HubError,
  HealthCheckSchema,
  ListOrchestrationsQuery,
  ListSessionsQuery,
  OrchestrationPage,
  OrchestrationPageSchema,
  OrchestrationSummary,
  OrchestrationSummarySchema,
  OrchestrationView,
  OrchestrationViewQuery,
  OrchestrationViewSchema,
  SessionOutput,
  SessionOutputSchema,
  SessionPage,
  SessionPageSchema,
  SessionStatus,
  SessionView,
  SessionViewSchema,
  unavailable,
} from '@hub/contracts';
import { collectSessions } from './collect-sessions';
import { HubApi, HubFile, ReadinessReport, SessionFilter } from './hub-api.port';
import { HttpProblem } from './http-problem';
import { SessionOutputWithContents, withInlinedContents } from './output-contents';

export interface HttpHubApiOptions {
  /** The gateway, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  apiToken: string;
  /** Per request; creating a large orchestration is the slowest call. Default 60 s. */
  timeoutMs?: number;
}

const ErrorBodySchema = z.object({ error: z.string(), message: z.string(), details: z.unknown().optional() });
const ReadinessReportSchema = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.array(HealthCheckSchema) });

const isErrorCode = (code: string): code is ErrorCode => (ERROR_CODES as readonly string[]).includes(code);
const segment = encodeURIComponent;

/** `?a=1&b=x` of the given values (none: ''). */
function queryOf(query: object): string {
  const given = Object.entries(query).filter(([, value]) => value !== undefined);
  const search = new URLSearchParams(given.map(([key, value]): [string, string] => [key, String(value)])).toString();
  return search ? `?${search}` : '';
}

/**
 * HubApi through the gateway's REST API (`/api/v1`, bearer token), for the stdio binary. Answers
 * are validated against the contracts; an error answer becomes the HubError the gateway made of it
 * (same code, same message), or an HttpProblem for the gateway's own refusals (401, 413, 415).
 */
export class HttpHubApi extends HubApi {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpHubApiOptions) {
    super();
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async createSession(request: CreateSessionRequest): Promise<SessionView> {
    return SessionViewSchema.parse(await this.json('POST', '/api/v1/sessions', request));
  }

  async startSession(sessionId: string): Promise<SessionView> {
    return SessionViewSchema.parse(await this.json('POST', `/api/v1/sessions/${segment(sessionId)}/start`));
  }

  async cancelSession(sessionId: string): Promise<SessionView> {
    return SessionViewSchema.parse(await this.json('POST', `/api/v1/sessions/${segment(sessionId)}/cancel`));
  }

  async getSession(sessionId: string): Promise<SessionView> {
    return SessionViewSchema.parse(await this.json('GET', `/api/v1/sessions/${segment(sessionId)}`));
  }

  async listSessions(query: ListSessionsQuery): Promise<SessionPage> {
    return SessionPageSchema.parse(await this.json('GET', `/api/v1/sessions${queryOf(query)}`));
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

  async getSessionOutput(sessionId: string): Promise<SessionOutput> {
    return SessionOutputSchema.parse(await this.json('GET', `/api/v1/sessions/${segment(sessionId)}/output`));
  }

  async getSessionOutputWithContents(sessionId: string): Promise<SessionOutputWithContents> {
    return withInlinedContents(await this.getSessionOutput(sessionId), (path) => this.readOutputFile(sessionId, path));
  }

  async readOutputFile(sessionId: string, path: string): Promise<HubFile> {
    const encoded = path.split('/').map(segment).join('/');
    return this.file(await this.send('GET', `/api/v1/sessions/${segment(sessionId)}/output/files/${encoded}`));
  }

  async sessionLog(sessionId: string): Promise<HubFile> {
    return this.file(await this.send('GET', `/api/v1/sessions/${segment(sessionId)}/logs`));
  }

  async sessionChanges(sessionId: string): Promise<HubFile> {
    return this.file(await this.send('GET', `/api/v1/sessions/${segment(sessionId)}/changes`));
  }

  async createOrchestration(request: CreateOrchestrationRequest): Promise<OrchestrationView> {
    return OrchestrationViewSchema.parse(await this.json('POST', '/api/v1/orchestrations', request));
  }

  async getOrchestration(orchestrationId: string, page: OrchestrationViewQuery = {}): Promise<OrchestrationView> {
    return OrchestrationViewSchema.parse(await this.json('GET', `/api/v1/orchestrations/${segment(orchestrationId)}${queryOf(page)}`));
  }

  async listOrchestrations(query: ListOrchestrationsQuery): Promise<OrchestrationPage> {
    return OrchestrationPageSchema.parse(await this.json('GET', `/api/v1/orchestrations${queryOf(query)}`));
  }

  async startOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    return OrchestrationSummarySchema.parse(await this.json('POST', `/api/v1/orchestrations/${segment(orchestrationId)}/start`));
  }

  async cancelOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    return OrchestrationSummarySchema.parse(await this.json('POST', `/api/v1/orchestrations/${segment(orchestrationId)}/cancel`));
  }

  /** `/health/ready` answers its report with 503 as well as with 200. */
  async readiness(): Promise<ReadinessReport> {
    const response = await this.fetch('GET', '/health/ready');
    if (response.status !== 200 && response.status !== 503) throw await this.refusal(response);
    return ReadinessReportSchema.parse(await response.json());
  }

  private file(response: Response): HubFile {
    return {
      content: response.body ? Readable.fromWeb(response.body as WebReadableStream) : Readable.from([]),
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
    };
  }

  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    return (await this.send(method, path, body)).json();
  }

  /** One request; a non-2xx answer is thrown as the error the gateway describes in its body. */
  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    const response = await this.fetch(method, path, body);
    if (response.ok) return response;
    throw await this.refusal(response);
  }

  private async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.apiToken}`,
          accept: 'application/json, text/plain, */*',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw this.unreachable(error);
    }
  }

  private unreachable(error: unknown): HubError {
    if ((error as Error).name === 'TimeoutError') {
      return unavailable(`the Hub gateway at ${this.baseUrl} did not answer within ${this.timeoutMs} ms`);
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    return unavailable(`cannot reach the Hub gateway at ${this.baseUrl} (${why}); is Hub running? (npm run hub)`);
  }

  private async refusal(response: Response): Promise<Error> {
    const text = await response.text();
    let parsed: z.infer<typeof ErrorBodySchema> | undefined;
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
