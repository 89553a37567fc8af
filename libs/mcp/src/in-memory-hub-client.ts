import { createHash, randomUUID } from 'node:crypto';
import {
  badRequest,
  conflict,
  CreateOrchestrationRequest,
  CreateSessionRequest,
  HubError,
  isTerminal,
  ListSessionsQuery,
  notFound,
  OrchestrationView,
  RPC,
  SESSION_STATUSES,
  SessionOutput,
  SessionPage,
  SessionStatus,
  SessionView,
  unavailable,
} from '@hub/contracts';
import type { HubClient } from './hub-client.port';

/**
 * Hub in memory, for the tools' tests: sessions, their logs and output files, refusing what the
 * registry refuses with the registry's messages. `down` makes every call fail as a gateway without
 * its registry does; `broken` makes every call fail with an unexpected error.
 */
export class InMemoryHubClient implements HubClient {
  readonly sessions = new Map<string, SessionView>();
  private readonly order: string[] = [];
  private readonly logs = new Map<string, string>();
  private readonly outputs = new Map<string, Map<string, Buffer>>();
  readonly received: { method: keyof HubClient; request: unknown }[] = [];
  down = false;
  broken = false;

  /** Ends a session the way a runner would: status, exit code, log and output files. */
  finish(sessionId: string, outcome: { status?: SessionStatus; exitCode?: number; log?: string; files?: Record<string, string | Buffer> }) {
    const session = this.session(sessionId);
    Object.assign(session, {
      status: outcome.status ?? 'completed',
      exitCode: outcome.exitCode ?? 0,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
    });
    if (outcome.log !== undefined) this.logs.set(sessionId, outcome.log);
    this.outputs.set(
      sessionId,
      new Map(Object.entries(outcome.files ?? {}).map(([path, content]) => [path, Buffer.from(content)])),
    );
  }

  async createSession(request: CreateSessionRequest): Promise<SessionView> {
    this.enter('createSession', request);
    const orchestrationId = request.orchestrationId ?? randomUUID();
    const dependsOn = request.dependsOn ?? [];
    const unknown = dependsOn.filter((id) => !this.sessions.has(id));
    if (unknown.length) throw badRequest(`dependsOn names sessions that do not exist: ${unknown.join(', ')}`);
    const elsewhere = dependsOn.filter((id) => this.sessions.get(id)!.orchestrationId !== orchestrationId);
    if (elsewhere.length) {
      throw badRequest(`dependsOn names sessions of another orchestration: ${elsewhere.join(', ')}; pass their orchestrationId`);
    }
    const session = this.add({
      type: request.type,
      name: request.name ?? null,
      orchestrationId,
      repository: request.repository ?? null,
      branch: request.branch ?? null,
      image: request.image ?? 'hub/test-agent:latest',
      timeoutSeconds: request.timeoutSeconds ?? 3600,
      retries: request.retries ?? 0,
      dependsOn: request.dependsOn ?? [],
      status: request.start ? 'waiting' : 'created',
    });
    return { ...session };
  }

  async startSession(sessionId: string): Promise<SessionView> {
    this.enter('startSession', sessionId);
    const session = this.session(sessionId);
    if (isTerminal(session.status)) throw conflict(`cannot start session ${sessionId}: it already ended ${session.status}`);
    if (session.status === 'created') session.status = 'waiting';
    return { ...session };
  }

  async getSession(sessionId: string): Promise<SessionView> {
    this.enter('getSession', sessionId);
    return { ...this.session(sessionId) };
  }

  async listSessions(query: ListSessionsQuery): Promise<SessionPage> {
    this.enter('listSessions', query);
    const matching = [...this.order]
      .reverse()
      .map((id) => this.sessions.get(id)!)
      .filter((s) => !query.orchestrationId || s.orchestrationId === query.orchestrationId)
      .filter((s) => !query.status || s.status === query.status)
      .filter((s) => !query.type || s.type === query.type);
    const from = query.cursor ? Number(query.cursor.slice(1)) : 0;
    const limit = query.limit ?? 50;
    const items = matching.slice(from, from + limit).map((s) => ({ ...s }));
    return { items, nextCursor: from + limit < matching.length ? `c${from + limit}` : null };
  }

  async cancelSession(sessionId: string): Promise<SessionView> {
    this.enter('cancelSession', sessionId);
    const session = this.session(sessionId);
    if (isTerminal(session.status)) throw conflict(`cannot cancel session ${sessionId}: it already ended ${session.status}`);
    Object.assign(session, { status: 'cancelled', statusReason: 'cancelled on request', finishedAt: new Date().toISOString() });
    return { ...session };
  }

  async getSessionOutput(sessionId: string): Promise<SessionOutput> {
    this.enter('getSessionOutput', sessionId);
    const session = this.session(sessionId);
    const files = [...(this.outputs.get(sessionId) ?? new Map<string, Buffer>())].map(([path, content]) => ({
      path,
      size: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
    }));
    return { sessionId, status: session.status, exitCode: session.exitCode, files, skipped: [], skippedCount: 0 };
  }

  async readOutputFile(sessionId: string, path: string): Promise<Buffer> {
    this.enter('readOutputFile', { sessionId, path });
    const content = this.outputs.get(sessionId)?.get(path);
    if (!content) throw notFound(`output file ${path} of session`, sessionId);
    return content;
  }

  async getSessionLogs(sessionId: string): Promise<string> {
    this.enter('getSessionLogs', sessionId);
    const session = this.session(sessionId);
    const log = this.logs.get(sessionId);
    if (log === undefined) {
      throw new HubError('not_found', `no log yet: session ${sessionId} is ${session.status}; its log is stored when its container exits`);
    }
    return log;
  }

  async createOrchestration(request: CreateOrchestrationRequest): Promise<OrchestrationView> {
    this.enter('createOrchestration', request);
    const names = new Set(request.sessions.map((s) => s.name));
    const unknown = request.sessions.flatMap((s) => s.dependsOn.filter((d) => !names.has(d)).map((d) => `${s.name} → ${d}`));
    if (unknown.length) throw badRequest(`unknown dependencies: ${unknown.join(', ')}`);
    const orchestrationId = randomUUID();
    const ids = new Map(request.sessions.map((s) => [s.name, randomUUID()]));
    const sessions = request.sessions.map((s) =>
      this.add({
        id: ids.get(s.name)!,
        orchestrationId,
        name: s.name,
        type: s.type,
        dependsOn: s.dependsOn.map((d) => ids.get(d)!),
        status: request.start ? 'waiting' : 'created',
      }),
    );
    const counts = Object.fromEntries(SESSION_STATUSES.map((status) => [status, sessions.filter((s) => s.status === status).length]));
    return {
      id: orchestrationId,
      name: request.name,
      status: request.start ? 'running' : 'pending',
      maxParallel: request.maxParallel ?? null,
      sessionCount: sessions.length,
      counts: counts as OrchestrationView['counts'],
      createdAt: new Date().toISOString(),
      sessions: sessions.map((s) => ({ ...s })),
    };
  }

  private enter(method: keyof HubClient, request: unknown): void {
    this.received.push({ method, request });
    if (this.down) throw unavailable(`session-registry is not running: nobody answers ${RPC.getSession} on NATS`);
    if (this.broken) throw new TypeError("Cannot read properties of undefined (reading 'status')");
  }

  private session(sessionId: string): SessionView {
    const session = this.sessions.get(sessionId);
    if (!session) throw notFound('session', sessionId);
    return session;
  }

  private add(fields: Partial<SessionView>): SessionView {
    const session: SessionView = {
      id: randomUUID(),
      orchestrationId: randomUUID(),
      name: null,
      type: 'implementation',
      status: 'created',
      statusReason: null,
      exitCode: null,
      containerId: null,
      image: 'hub/test-agent:latest',
      repository: null,
      branch: null,
      timeoutSeconds: 3600,
      dependsOn: [],
      retries: 0,
      attempt: 0,
      attempts: [],
      log: null,
      output: null,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      ...fields,
    };
    this.sessions.set(session.id, session);
    this.order.push(session.id);
    return session;
  }
}
