import type { OrchestrationView, SessionPage, SessionStatus, SessionView } from '@hub/contracts';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
  contentType: string | null;
}

const TERMINAL: SessionStatus[] = ['completed', 'failed', 'cancelled', 'timed_out', 'skipped'];

/** A client of the gateway's REST API, as any user would write one. */
export class HubApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: logs and output files
    }
    return { status: response.status, body: parsed as T, text, contentType: response.headers.get('content-type') };
  }

  async createSession(request: Record<string, unknown>): Promise<SessionView> {
    const response = await this.request<SessionView>('POST', '/api/v1/sessions', request);
    if (response.status !== 201) throw new Error(`create session: HTTP ${response.status} ${response.text}`);
    return response.body;
  }

  async getSession(id: string): Promise<SessionView> {
    const response = await this.request<SessionView>('GET', `/api/v1/sessions/${id}`);
    if (response.status !== 200) throw new Error(`get session ${id}: HTTP ${response.status} ${response.text}`);
    return response.body;
  }

  async listSessions(query: Record<string, string | number> = {}): Promise<SessionPage> {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    const response = await this.request<SessionPage>('GET', `/api/v1/sessions${qs ? `?${qs}` : ''}`);
    if (response.status !== 200) throw new Error(`list sessions: HTTP ${response.status} ${response.text}`);
    return response.body;
  }

  async createOrchestration(request: Record<string, unknown>): Promise<OrchestrationView> {
    const response = await this.request<OrchestrationView>('POST', '/api/v1/orchestrations', request);
    if (response.status !== 201) throw new Error(`create orchestration: HTTP ${response.status} ${response.text}`);
    return response.body;
  }

  /** The orchestration with every one of its sessions: the pages after the first (500) read on with `nextCursor`. */
  async getOrchestration(id: string): Promise<OrchestrationView> {
    const page = async (cursor?: string) => {
      const response = await this.request<OrchestrationView>('GET', `/api/v1/orchestrations/${id}${cursor ? `?cursor=${cursor}` : ''}`);
      if (response.status !== 200) throw new Error(`get orchestration ${id}: HTTP ${response.status} ${response.text}`);
      return response.body;
    };
    const view = await page();
    for (let cursor = view.nextCursor; cursor; ) {
      const next = await page(cursor);
      view.sessions.push(...next.sessions);
      cursor = next.nextCursor;
    }
    return view;
  }

  /** Polls until every session of the orchestration has ended. */
  async waitForOrchestration(id: string, timeoutMs = 60_000): Promise<OrchestrationView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const orchestration = await this.getOrchestration(id);
      if (orchestration.sessions.every((s) => TERMINAL.includes(s.status))) return orchestration;
      if (Date.now() > deadline) {
        const statuses = orchestration.sessions.map((s) => `${s.name}=${s.status}`).join(' ');
        throw new Error(`orchestration ${id} still has sessions on their way: ${statuses}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Polls until a runner recorded what the orchestration produced (a moment after its last session ended). */
  async waitForResult(id: string, timeoutMs = 60_000): Promise<OrchestrationView & { result: NonNullable<OrchestrationView['result']> }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.request<OrchestrationView>('GET', `/api/v1/orchestrations/${id}?limit=1`);
      if (response.status !== 200) throw new Error(`get orchestration ${id}: HTTP ${response.status} ${response.text}`);
      const { result } = response.body;
      if (result) return { ...response.body, result };
      if (Date.now() > deadline) throw new Error(`orchestration ${id} (${response.body.status}) has no result after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Polls until the session has one of `statuses` (default: any terminal one). */
  async waitForStatus(id: string, statuses: SessionStatus[] = TERMINAL, timeoutMs = 60_000): Promise<SessionView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const session = await this.getSession(id);
      if (statuses.includes(session.status)) return session;
      if (TERMINAL.includes(session.status) || Date.now() > deadline) {
        throw new Error(`session ${id} is ${session.status} (${session.statusReason}), expected ${statuses.join('|')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
