import type {
  ErrorBody,
  OrchestrationPage,
  OrchestrationStatus,
  OrchestrationSummary,
  OrchestrationView,
  ReadinessReport,
  RunnerList,
  SessionOutput,
  SessionPage,
  SessionStatus,
  SessionView,
} from '@hub/contracts';
import { textUpTo } from './text-stream';

/** A refusal of the API (its house error body), or a request that got no answer (`status` 0). */
export class HubRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HubRequestError';
  }
}

export interface SessionListQuery {
  orchestrationId?: string;
  status?: SessionStatus | readonly SessionStatus[];
  type?: string;
  q?: string;
  limit?: number;
  cursor?: string;
}

export interface OrchestrationListQuery {
  status?: OrchestrationStatus;
  limit?: number;
  cursor?: string;
}

export interface EventsQuery {
  orchestrationId?: string;
  sessionId?: string;
  /** Event subjects (`session.status-changed`, …). */
  type?: readonly string[];
}

export interface HubClientOptions {
  /** Called when the API refuses the token (401): it is wrong, or was revoked. */
  onUnauthorized?: () => void;
  /** Where the API is (default: this page's origin). */
  baseUrl?: string;
  fetch?: typeof fetch;
}

interface RequestOptions {
  body?: unknown;
  accept?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Statuses besides 2xx whose answer is the value asked for (the readiness report comes with 503). */
  alsoOk?: readonly number[];
}

const API = '/api/v1';
const enc = encodeURIComponent;

/** `?a=1&b=x,y` of the values given (none: ''). */
export function queryString(query: object): string {
  const pairs = Object.entries(query)
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([key, value]): [string, string] => [key, Array.isArray(value) ? value.join(',') : String(value)]);
  const search = new URLSearchParams(pairs).toString();
  return search ? `?${search}` : '';
}

/**
 * Hub's REST API for the dashboard: every request carries the token as a bearer token (never in a
 * URL, so a followed stream is read with fetch, not EventSource); a refusal is a HubRequestError
 * with the API's own message.
 */
export class HubClient {
  private readonly fetcher: typeof fetch;
  private readonly baseUrl: string;

  constructor(
    private readonly token: string,
    private readonly options: HubClientOptions = {},
  ) {
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
    this.baseUrl = options.baseUrl ?? '';
  }

  /** The answer, once it is a success; the house error as a HubRequestError otherwise. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...options.headers };
    if (options.accept) headers['accept'] = options.accept;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetcher(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new HubRequestError(0, 'unreachable', `Hub did not answer (${(error as Error).message}).`);
    }
    if (response.ok || options.alsoOk?.includes(response.status)) return response;
    const refusal = await refusalOf(response);
    if (response.status === 401) this.options.onUnauthorized?.();
    throw refusal;
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await (await this.request(method, path, { accept: 'application/json', ...options })).json()) as T;
  }

  // ---- sessions ----
  listSessions(query: SessionListQuery): Promise<SessionPage> {
    return this.json('GET', `${API}/sessions${queryString(query)}`);
  }
  getSession(id: string): Promise<SessionView> {
    return this.json('GET', `${API}/sessions/${enc(id)}`);
  }
  cancelSession(id: string): Promise<SessionView> {
    return this.json('POST', `${API}/sessions/${enc(id)}/cancel`);
  }
  rerunSession(id: string): Promise<SessionView> {
    return this.json('POST', `${API}/sessions/${enc(id)}/rerun`);
  }
  sessionOutput(id: string): Promise<SessionOutput> {
    return this.json('GET', `${API}/sessions/${enc(id)}/output`);
  }
  /** An attempt's stored log: at most `maxChars` of it. */
  async sessionLog(id: string, attempt: number, maxChars: number): Promise<{ text: string; truncated: boolean }> {
    const response = await this.request('GET', `${API}/sessions/${enc(id)}/logs${queryString({ attempt })}`, { accept: 'text/plain' });
    return textUpTo(response.body!, maxChars);
  }
  /** An attempt's lines as they are printed, NDJSON, until it ends. */
  followSessionLog(id: string, attempt: number, signal: AbortSignal): Promise<Response> {
    return this.request('GET', `${API}/sessions/${enc(id)}/logs${queryString({ attempt, follow: true })}`, { accept: 'application/x-ndjson', signal });
  }
  async sessionLogFile(id: string, attempt: number): Promise<Blob> {
    return (await this.request('GET', `${API}/sessions/${enc(id)}/logs${queryString({ attempt })}`)).blob();
  }
  async outputFile(id: string, path: string): Promise<Blob> {
    const filePath = path.split('/').map(enc).join('/');
    return (await this.request('GET', `${API}/sessions/${enc(id)}/output/files/${filePath}`)).blob();
  }
  async sessionChanges(id: string, maxChars: number): Promise<{ text: string; truncated: boolean }> {
    return textUpTo((await this.request('GET', `${API}/sessions/${enc(id)}/changes`)).body!, maxChars);
  }

  // ---- orchestrations ----
  listOrchestrations(query: OrchestrationListQuery): Promise<OrchestrationPage> {
    return this.json('GET', `${API}/orchestrations${queryString(query)}`);
  }
  getOrchestration(id: string, page: { limit?: number; cursor?: string } = {}): Promise<OrchestrationView> {
    return this.json('GET', `${API}/orchestrations/${enc(id)}${queryString(page)}`);
  }
  cancelOrchestration(id: string): Promise<OrchestrationSummary> {
    return this.json('POST', `${API}/orchestrations/${enc(id)}/cancel`);
  }
  retryOrchestration(id: string): Promise<OrchestrationSummary> {
    return this.json('POST', `${API}/orchestrations/${enc(id)}/retry`);
  }
  async orchestrationChanges(id: string, maxChars: number): Promise<{ text: string; truncated: boolean }> {
    return textUpTo((await this.request('GET', `${API}/orchestrations/${enc(id)}/changes`)).body!, maxChars);
  }

  // ---- events and health ----
  /** Hub's events as server-sent events, after `lastEventId` when resuming. */
  events(query: EventsQuery, lastEventId: string | undefined, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = lastEventId === undefined ? {} : { 'last-event-id': lastEventId };
    return this.request('GET', `${API}/events${queryString(query)}`, { accept: 'text/event-stream', headers, signal });
  }
  /** The runners the registry knows, from their heartbeats: alive or lost, labels, slots in use. */
  listRunners(): Promise<RunnerList> {
    return this.json('GET', `${API}/runners`);
  }
  /** `/health/ready`: every check, whether they all passed (200) or not (503). */
  readiness(): Promise<ReadinessReport> {
    return this.json('GET', '/health/ready', { alsoOk: [503] });
  }
}

async function refusalOf(response: Response): Promise<HubRequestError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (typeof body.message === 'string') return new HubRequestError(response.status, body.error ?? 'error', body.message);
  } catch {
    // not the house error body
  }
  return new HubRequestError(response.status, 'error', `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
}
