import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { Readable } from 'node:stream';
import {
  addUsage,
  ApiKey,
  ApiKeyPage,
  AuditEntry,
  AuditPage,
  CreateApiKeyRequest,
  CreatedApiKey,
  DEFAULT_RUNNER_LEASE_GRACE_SECONDS,
  DEFAULT_TENANT,
  ListApiKeysQuery,
  ListAuditQuery,
  conflict,
  CreateOrchestrationRequest,
  CreateSessionRequest,
  DeletedOrchestration,
  DeletedSession,
  HubError,
  isOrchestrationEnded,
  isTerminal,
  ListNotificationDeliveriesQuery,
  ListOrchestrationsQuery,
  NotificationDeliveryPage,
  NOT_COMPLETED_STATUSES,
  NO_USAGE,
  Budget,
  ContinueSessionRequest,
  UpdateOrchestrationRequest,
  ListSessionsQuery,
  LiveLogLine,
  notFound,
  OrchestrationPage,
  OrchestrationSummary,
  OrchestrationView,
  OrchestrationWait,
  RPC,
  RunnerList,
  SESSION_STATUSES,
  SessionOutput,
  SessionPage,
  SessionStatus,
  SessionView,
  unavailable,
  UsageByKey,
  UsageSummary,
  UsageSummaryQuery,
  usageSummarySince,
} from '@hub/contracts';
import {
  collectSessions,
  HubApi,
  HubFile,
  LogFollowOptions,
  ReadinessReport,
  SessionFilter,
  SessionOutputWithContents,
  Waited,
  withInlinedContents,
} from '@hub/hub-api';
import { buildSessionView } from './session-view.builder';

type Method = Exclude<keyof HubApi, 'constructor'>;

/**
 * Hub in memory, for the tests of what sits on HubApi (the MCP tools): sessions, their logs and
 * output files. It decides nothing the registry decides (which orchestration a session joins, what
 * a dependency may be): a test that needs a refusal sets it with `refuse`, and the registry's own
 * refusals are tested against the registry. `down` makes every call fail as a gateway without its
 * registry does; `broken` makes every call fail with an unexpected error.
 */
export class InMemoryHubApi extends HubApi {
  readonly sessions = new Map<string, SessionView>();
  private readonly order: string[] = [];
  private readonly orchestrations = new Map<string, { name: string; maxParallel: number | null; createdAt: string }>();
  /** Budgets set with updateOrchestration: nothing is ever spent here, so all of each is left. */
  private readonly budgets = new Map<string, Budget | null>();
  private readonly logs = new Map<string, string>();
  private readonly outputs = new Map<string, Map<string, Buffer>>();
  private readonly refusals = new Map<Method, Error>();
  readonly received: { method: Method; request: unknown }[] = [];
  /** API keys, newest last; created here by `bootstrap`, in the default tenant unless asked otherwise. */
  readonly apiKeys: ApiKey[] = [];
  /** The audit log listAudit answers, newest last: nothing writes it here but a test. */
  readonly auditEntries: AuditEntry[] = [];
  /** What usageSummary answers per key: nothing is spent here, so a test sets it. */
  readonly usageByKey: UsageByKey[] = [];
  /** Emits `change` when a session ends here (finish, cancel): what the waits read again on. */
  private readonly changes = new EventEmitter();
  down = false;
  broken = false;

  /** The next call of `method` fails with `error` (as Hub would refuse it). */
  refuse(method: Method, error: Error): void {
    this.refusals.set(method, error);
  }

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
    this.changes.emit('change');
  }

  async createSession(request: CreateSessionRequest): Promise<SessionView> {
    this.enter('createSession', request);
    const orchestrationId = request.orchestrationId ?? this.addOrchestration(request.name ?? `${request.type} session`, null);
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

  async cancelSession(sessionId: string): Promise<SessionView> {
    this.enter('cancelSession', sessionId);
    const session = this.session(sessionId);
    if (isTerminal(session.status)) throw conflict(`cannot cancel session ${sessionId}: it already ended ${session.status}`);
    Object.assign(session, { status: 'cancelled', statusReason: 'cancelled on request', finishedAt: new Date().toISOString() });
    this.changes.emit('change');
    return { ...session };
  }

  /** An ended session no session depends on, with its log and output; its orchestration too when it was the last. */
  async deleteSession(sessionId: string): Promise<DeletedSession> {
    this.enter('deleteSession', sessionId);
    const session = this.session(sessionId);
    if (!isTerminal(session.status)) throw conflict(`cannot delete session ${sessionId}: it has not ended (it is ${session.status}); cancel it first`);
    const dependents = [...this.sessions.values()].filter((s) => s.dependsOn.includes(sessionId));
    if (dependents.length) {
      throw conflict(`cannot delete session ${sessionId}: ${dependents.length} session(s) depend on it (${dependents.map((s) => s.id).join(', ')})`);
    }
    this.forget(sessionId);
    const orchestrationDeleted = !this.order.some((id) => this.sessions.get(id)!.orchestrationId === session.orchestrationId);
    if (orchestrationDeleted) this.orchestrations.delete(session.orchestrationId);
    return { id: sessionId, orchestrationId: session.orchestrationId, orchestrationDeleted };
  }

  /** The session and, through each other, its dependents that did not complete, back to waiting. */
  async rerunSession(sessionId: string): Promise<SessionView> {
    this.enter('rerunSession', sessionId);
    const session = this.session(sessionId);
    if (!isTerminal(session.status)) throw conflict(`cannot re-run session ${sessionId}: it has not ended (it is ${session.status})`);
    const again = [session];
    for (const moved of again) {
      const dependents = [...this.sessions.values()].filter((s) => s.dependsOn.includes(moved.id) && !again.includes(s));
      again.push(...dependents.filter((s) => (NOT_COMPLETED_STATUSES as readonly SessionStatus[]).includes(s.status)));
    }
    for (const s of again) this.runAgain(s);
    return { ...session };
  }

  /** A follow-up session depending on a completed one, named `<name>-continued-<n>`. */
  async continueSession(sessionId: string, request: ContinueSessionRequest): Promise<SessionView> {
    this.enter('continueSession', { sessionId, ...request });
    const source = this.session(sessionId);
    if (source.status !== 'completed') throw conflict(`cannot continue session ${sessionId}: it is ${source.status}`);
    const session = this.add({
      type: source.type,
      name: `${source.name ?? source.id.slice(0, 8)}-continued-${source.continuedBy.length + 1}`,
      orchestrationId: source.orchestrationId,
      repository: source.repository,
      branch: null,
      image: source.image,
      timeoutSeconds: request.timeoutSeconds ?? source.timeoutSeconds,
      retries: source.retries,
      dependsOn: [source.id],
      status: request.start === false ? 'created' : 'waiting',
      continues: source.id,
    });
    source.continuedBy.push(session.id);
    return { ...session };
  }

  async getSession(sessionId: string): Promise<SessionView> {
    this.enter('getSession', sessionId);
    return { ...this.session(sessionId) };
  }

  async waitForSession(sessionId: string, timeoutSeconds: number): Promise<Waited<SessionView>> {
    this.enter('waitForSession', { sessionId, timeoutSeconds });
    return this.readUntil(() => ({ ...this.session(sessionId) }), (session) => isTerminal(session.status), timeoutSeconds);
  }

  async listSessions(query: ListSessionsQuery): Promise<SessionPage> {
    this.enter('listSessions', query);
    const matching = [...this.order]
      .reverse()
      .map((id) => this.sessions.get(id)!)
      .filter((s) => !query.orchestrationId || s.orchestrationId === query.orchestrationId)
      .filter((s) => !query.status || query.status.includes(s.status))
      .filter((s) => !query.type || s.type === query.type);
    const from = query.cursor ? Number(query.cursor.slice(1)) : 0;
    const limit = query.limit ?? 50;
    const items = matching.slice(from, from + limit).map((s) => ({ ...s }));
    return { items, nextCursor: from + limit < matching.length ? `c${from + limit}` : null };
  }

  collectSessions(filter: SessionFilter, max: number): Promise<SessionView[]> {
    return collectSessions((query) => this.listSessions(query), filter, max);
  }

  async sessionStatuses(sessionIds: string[]): Promise<{ sessionId: string; status: SessionStatus }[]> {
    this.enter('sessionStatuses', sessionIds);
    return sessionIds.flatMap((id) => {
      const session = this.sessions.get(id);
      return session ? [{ sessionId: id, status: session.status }] : [];
    });
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

  async getSessionOutputWithContents(sessionId: string): Promise<SessionOutputWithContents> {
    return withInlinedContents(await this.getSessionOutput(sessionId), (path) => this.readOutputFile(sessionId, path));
  }

  async readOutputFile(sessionId: string, path: string): Promise<HubFile> {
    this.enter('readOutputFile', { sessionId, path });
    const content = this.outputs.get(sessionId)?.get(path);
    if (!content) throw notFound(`output file ${path} of session`, sessionId);
    return { content: Readable.from([content]), contentType: 'application/octet-stream' };
  }

  async sessionLog(sessionId: string): Promise<HubFile> {
    this.enter('sessionLog', sessionId);
    const session = this.session(sessionId);
    const log = this.logs.get(sessionId);
    if (log === undefined) {
      throw new HubError('not_found', `no log yet: session ${sessionId} is ${session.status}; its log is stored when its container exits`);
    }
    return { content: Readable.from([Buffer.from(log)]), contentType: 'text/plain; charset=utf-8' };
  }

  /** No runner prints here while a session runs: its log's lines come once it ends (as `finish` left it), as stdout. */
  async followSessionLog(sessionId: string, options: LogFollowOptions = {}): Promise<AsyncIterable<LiveLogLine>> {
    this.enter('followSessionLog', { sessionId, attempt: options.attempt });
    this.session(sessionId);
    return this.linesOnceEnded(sessionId, options.signal);
  }

  private async *linesOnceEnded(sessionId: string, signal?: AbortSignal): AsyncGenerator<LiveLogLine> {
    while (!isTerminal(this.session(sessionId).status)) await once(this.changes, 'change', { signal });
    const t = new Date().toISOString();
    const log = this.logs.get(sessionId) ?? '';
    if (!log) return;
    for (const line of log.split('\n').slice(0, log.endsWith('\n') ? -1 : undefined)) yield { t, stream: 'stdout', line };
  }

  async sessionChanges(sessionId: string): Promise<HubFile> {
    this.enter('sessionChanges', sessionId);
    this.session(sessionId);
    throw new HubError('not_found', `session ${sessionId} changed nothing in its workspace`);
  }

  /** Every session of the request, its dependencies by id; no check of the plan (the registry's). */
  async createOrchestration(request: CreateOrchestrationRequest): Promise<OrchestrationView> {
    this.enter('createOrchestration', request);
    const orchestrationId = this.addOrchestration(request.name, request.maxParallel ?? null);
    const ids = new Map(request.sessions.map((s) => [s.name, randomUUID()]));
    for (const s of request.sessions) {
      this.add({
        id: ids.get(s.name)!,
        orchestrationId,
        name: s.name,
        type: s.type,
        dependsOn: s.dependsOn.map((d) => ids.get(d) ?? d),
        status: request.start ? 'waiting' : 'created',
      });
    }
    return this.view(orchestrationId);
  }

  async getOrchestration(orchestrationId: string): Promise<OrchestrationView> {
    this.enter('getOrchestration', orchestrationId);
    return this.view(orchestrationId);
  }

  /** No result is ever recorded here: a wait for `result` lasts its whole timeout. */
  async waitForOrchestration(orchestrationId: string, until: OrchestrationWait, timeoutSeconds: number): Promise<Waited<OrchestrationView>> {
    this.enter('waitForOrchestration', { orchestrationId, until, timeoutSeconds });
    const reached = (view: OrchestrationView) => (until === 'terminal' ? isOrchestrationEnded(view.status) : Boolean(view.result));
    return this.readUntil(() => this.view(orchestrationId), reached, timeoutSeconds);
  }

  async listOrchestrations(query: ListOrchestrationsQuery): Promise<OrchestrationPage> {
    this.enter('listOrchestrations', query);
    return { items: [...this.orchestrations.keys()].reverse().map((id) => this.summary(id)), nextCursor: null };
  }

  async startOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    this.enter('startOrchestration', orchestrationId);
    for (const session of this.sessionsOf(orchestrationId)) if (session.status === 'created') session.status = 'waiting';
    return this.summary(orchestrationId);
  }

  async cancelOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    this.enter('cancelOrchestration', orchestrationId);
    for (const session of this.sessionsOf(orchestrationId)) if (!isTerminal(session.status)) session.status = 'cancelled';
    this.changes.emit('change');
    return this.summary(orchestrationId);
  }

  async retryOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    this.enter('retryOrchestration', orchestrationId);
    const sessions = this.sessionsOf(orchestrationId);
    if (sessions.some((s) => !isTerminal(s.status) && s.status !== 'created')) {
      throw conflict(`cannot retry orchestration ${orchestrationId}: it has not ended`);
    }
    const again = sessions.filter((s) => (NOT_COMPLETED_STATUSES as readonly SessionStatus[]).includes(s.status));
    if (!again.length) throw conflict(`cannot retry orchestration ${orchestrationId}: nothing to re-run`);
    for (const s of again) this.runAgain(s);
    return this.summary(orchestrationId);
  }

  /** An orchestration whose every session ended, with its sessions, their logs and outputs. */
  async deleteOrchestration(orchestrationId: string): Promise<DeletedOrchestration> {
    this.enter('deleteOrchestration', orchestrationId);
    const sessions = this.sessionsOf(orchestrationId);
    const notEnded = sessions.filter((s) => !isTerminal(s.status));
    if (notEnded.length) {
      throw conflict(`cannot delete orchestration ${orchestrationId}: ${notEnded.length} of its sessions have not ended (${notEnded.map((s) => `${s.id} ${s.status}`).join(', ')})`);
    }
    const { name } = this.orchestrations.get(orchestrationId)!;
    for (const session of sessions) this.forget(session.id);
    this.orchestrations.delete(orchestrationId);
    this.budgets.delete(orchestrationId);
    return { id: orchestrationId, name, sessionCount: sessions.length };
  }

  async updateOrchestration(orchestrationId: string, request: UpdateOrchestrationRequest): Promise<OrchestrationSummary> {
    this.enter('updateOrchestration', { orchestrationId, ...request });
    this.sessionsOf(orchestrationId);
    this.budgets.set(orchestrationId, request.budget);
    return this.summary(orchestrationId);
  }

  /** No combined change is ever made here: not found, as for an orchestration whose sessions changed nothing. */
  async orchestrationChanges(orchestrationId: string): Promise<HubFile> {
    this.enter('orchestrationChanges', orchestrationId);
    this.sessionsOf(orchestrationId);
    throw new HubError('not_found', `no combined change: orchestration ${orchestrationId} has none: no session changed anything`);
  }

  /** The keys of `usageByKey` and their sum, in the default tenant. */
  async usageSummary(query: UsageSummaryQuery): Promise<UsageSummary> {
    this.enter('usageSummary', query);
    const total = this.usageByKey.reduce((sum, { usage }) => addUsage(sum, usage), NO_USAGE);
    return {
      tenant: DEFAULT_TENANT,
      since: usageSummarySince(query)?.toISOString() ?? null,
      orchestrations: this.usageByKey.reduce((sum, { orchestrations }) => sum + orchestrations, 0),
      total,
      byKey: this.usageByKey.map((entry) => ({ ...entry })),
      others: null,
    };
  }

  /** No webhook is configured here: nothing was ever delivered. */
  async listNotificationDeliveries(query: ListNotificationDeliveriesQuery): Promise<NotificationDeliveryPage> {
    this.enter('listNotificationDeliveries', query);
    return { items: [], nextCursor: null };
  }

  async createApiKey(request: CreateApiKeyRequest): Promise<CreatedApiKey> {
    this.enter('createApiKey', request);
    if (this.apiKeys.some((key) => key.name === request.name && !key.revokedAt)) throw conflict(`an API key named ${request.name} exists (revoke it first)`);
    const id = randomUUID();
    const key: ApiKey = {
      id,
      name: request.name,
      scope: request.scope,
      tenant: request.tenant ?? DEFAULT_TENANT,
      createdAt: new Date().toISOString(),
      createdBy: 'bootstrap',
      revokedAt: null,
      lastUsedAt: null,
    };
    this.apiKeys.push(key);
    return { ...key, token: `hub_${id.replace(/-/g, '')}_${randomBytes(32).toString('base64url')}` };
  }

  async listApiKeys(query: ListApiKeysQuery): Promise<ApiKeyPage> {
    this.enter('listApiKeys', query);
    const items = this.apiKeys.filter((key) => !query.tenant || key.tenant === query.tenant).reverse();
    return { items: items.slice(0, query.limit ?? 50), nextCursor: null };
  }

  async revokeApiKey(keyId: string): Promise<ApiKey> {
    this.enter('revokeApiKey', keyId);
    const key = this.apiKeys.find((k) => k.id === keyId);
    if (!key) throw notFound('API key', keyId);
    key.revokedAt ??= new Date().toISOString();
    return { ...key };
  }

  async listAudit(query: ListAuditQuery): Promise<AuditPage> {
    this.enter('listAudit', query);
    const items = this.auditEntries
      .filter((entry) => (!query.tenant || entry.tenant === query.tenant) && (!query.key || entry.key === query.key) && (!query.action || entry.action === query.action))
      .reverse();
    return { items: items.slice(0, query.limit ?? 50), nextCursor: null };
  }

  async readiness(): Promise<ReadinessReport> {
    this.enter('readiness', undefined);
    return { status: 'ok', checks: [] };
  }

  async listRunners(): Promise<RunnerList> {
    this.enter('listRunners', undefined);
    return { runners: [], leaseGraceSeconds: DEFAULT_RUNNER_LEASE_GRACE_SECONDS, watchingSince: null };
  }

  private enter(method: Method, request: unknown): void {
    this.received.push({ method, request });
    if (this.down) throw unavailable(`session-registry is not running: nobody answers ${RPC.getSession} on NATS`);
    if (this.broken) throw new TypeError("Cannot read properties of undefined (reading 'status')");
    const refusal = this.refusals.get(method);
    if (refusal) {
      this.refusals.delete(method);
      throw refusal;
    }
  }

  /** Reads `read` again at each change until it is `reached`, or `timeoutSeconds` have passed. */
  private async readUntil<V>(read: () => V, reached: (view: V) => boolean, timeoutSeconds: number): Promise<Waited<V>> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (let view = read(); ; view = read()) {
      if (reached(view) || Date.now() >= deadline) return { view, reached: reached(view) };
      await once(this.changes, 'change', { signal: AbortSignal.timeout(deadline - Date.now()) }).catch(() => undefined);
    }
  }

  private session(sessionId: string): SessionView {
    const session = this.sessions.get(sessionId);
    if (!session) throw notFound('session', sessionId);
    return session;
  }

  private sessionsOf(orchestrationId: string): SessionView[] {
    if (!this.orchestrations.has(orchestrationId)) throw notFound('orchestration', orchestrationId);
    return this.order.map((id) => this.sessions.get(id)!).filter((s) => s.orchestrationId === orchestrationId);
  }

  private summary(orchestrationId: string): OrchestrationSummary {
    const sessions = this.sessionsOf(orchestrationId);
    const { name, maxParallel, createdAt } = this.orchestrations.get(orchestrationId)!;
    const counts = Object.fromEntries(SESSION_STATUSES.map((status) => [status, sessions.filter((s) => s.status === status).length]));
    const running = sessions.some((s) => !isTerminal(s.status) && s.status !== 'created');
    return {
      id: orchestrationId,
      name,
      status: running ? 'running' : sessions.every((s) => s.status === 'completed') ? 'completed' : 'pending',
      maxParallel,
      sessionCount: sessions.length,
      counts: counts as OrchestrationSummary['counts'],
      createdAt,
      publish: null,
      usage: NO_USAGE,
      budget: this.budgetOf(orchestrationId),
    };
  }

  private budgetOf(orchestrationId: string): OrchestrationSummary['budget'] {
    const budget = this.budgets.get(orchestrationId);
    if (!budget) return null;
    const left = { tokens: budget.tokens ?? null, usd: budget.usd ?? null };
    return { tokens: left.tokens, usd: left.usd, onExhausted: budget.onExhausted, left, exhausted: false };
  }

  private view(orchestrationId: string): OrchestrationView {
    return { ...this.summary(orchestrationId), sessions: this.sessionsOf(orchestrationId).map((s) => ({ ...s })), nextCursor: null };
  }

  private runAgain(session: SessionView): void {
    Object.assign(session, { status: 'waiting', statusReason: 're-run requested', exitCode: null, startedAt: null, finishedAt: null });
  }

  private addOrchestration(name: string, maxParallel: number | null): string {
    const id = randomUUID();
    this.orchestrations.set(id, { name, maxParallel, createdAt: new Date().toISOString() });
    return id;
  }

  private forget(sessionId: string): void {
    this.sessions.delete(sessionId);
    this.order.splice(this.order.indexOf(sessionId), 1);
    this.logs.delete(sessionId);
    this.outputs.delete(sessionId);
  }

  private add(fields: Partial<SessionView>): SessionView {
    const session = buildSessionView(fields);
    this.sessions.set(session.id, session);
    this.order.push(session.id);
    return session;
  }
}
