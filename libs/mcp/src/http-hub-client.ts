import { z } from 'zod';
import {
  CreateOrchestrationRequest,
  CreateSessionRequest,
  ERROR_CODES,
  type ErrorCode,
  HubError,
  ListSessionsQuery,
  OrchestrationView,
  OrchestrationViewSchema,
  SessionOutput,
  SessionOutputSchema,
  SessionPage,
  SessionPageSchema,
  SessionView,
  SessionViewSchema,
  unavailable,
} from '@hub/contracts';
import { HubClient, HubHttpError } from './hub-client.port';

export interface HttpHubClientOptions {
  /** The gateway, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  apiToken: string;
  /** Per request; creating a large orchestration is the slowest call. Default 60 s. */
  timeoutMs?: number;
}

const ErrorBodySchema = z.object({ error: z.string(), message: z.string(), details: z.unknown().optional() });

const isErrorCode = (code: string): code is ErrorCode => (ERROR_CODES as readonly string[]).includes(code);

/**
 * Hub through the gateway's REST API (`/api/v1`, bearer token), for the stdio binary. Answers are
 * validated against the contracts; an error answer becomes the HubError the gateway made of it
 * (same code, same message), or a HubHttpError for the gateway's own refusals (401, 413, 415).
 */
export class HttpHubClient implements HubClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpHubClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async createSession(request: CreateSessionRequest): Promise<SessionView> {
    return SessionViewSchema.parse(await this.json('POST', '/api/v1/sessions', request));
  }

  async startSession(sessionId: string): Promise<SessionView> {
    return SessionViewSchema.parse(await this.json('POST', `/api/v1/sessions/${encodeURIComponent(sessionId)}/start`));
  }

  async getSession(sessionId: string): Promise<SessionView> {
    return SessionViewSchema.parse(await this.json('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}`));
  }

  async listSessions(query: ListSessionsQuery): Promise<SessionPage> {
    const given = Object.entries(query).filter(([, value]) => value !== undefined);
    const search = new URLSearchParams(given.map(([key, value]): [string, string] => [key, String(value)])).toString();
    return SessionPageSchema.parse(await this.json('GET', `/api/v1/sessions${search ? `?${search}` : ''}`));
  }

  async cancelSession(sessionId: string): Promise<SessionView> {
    return SessionViewSchema.parse(await this.json('POST', `/api/v1/sessions/${encodeURIComponent(sessionId)}/cancel`));
  }

  async getSessionOutput(sessionId: string): Promise<SessionOutput> {
    return SessionOutputSchema.parse(await this.json('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}/output`));
  }

  async readOutputFile(sessionId: string, path: string): Promise<Buffer> {
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    const response = await this.send('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}/output/files/${encoded}`);
    return Buffer.from(await response.arrayBuffer());
  }

  async getSessionLogs(sessionId: string): Promise<string> {
    return (await this.send('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}/logs`)).text();
  }

  async createOrchestration(request: CreateOrchestrationRequest): Promise<OrchestrationView> {
    return OrchestrationViewSchema.parse(await this.json('POST', '/api/v1/orchestrations', request));
  }

  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    return (await this.send(method, path, body)).json();
  }

  /** One request; a non-2xx answer is thrown as the error the gateway describes in its body. */
  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
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
    if (response.ok) return response;
    throw await this.refusal(response);
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
      return new HubHttpError(response.status, 'http_error', `the Hub gateway answered HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    return isErrorCode(parsed.error)
      ? new HubError(parsed.error, parsed.message, parsed.details)
      : new HubHttpError(response.status, parsed.error, parsed.message);
  }
}
