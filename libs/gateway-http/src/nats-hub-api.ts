import { CallerRpc } from './auth/caller-context';
import { Inject, Injectable } from '@nestjs/common';
import { NatsConnection } from 'nats';
import {
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
  EVENTS,
  isOrchestrationEnded,
  isTerminal,
  ListOrchestrationsQuery,
  ListSessionsQuery,
  LiveLogLine,
  OrchestrationPage,
  OrchestrationSummary,
  OrchestrationView,
  OrchestrationViewQuery,
  OrchestrationWait,
  RPC,
  RpcRequest,
  RpcResponse,
  RpcSubject,
  SessionOutput,
  SessionPage,
  SessionStatus,
  SessionView,
  ContinueSessionRequest,
  UpdateOrchestrationRequest,
  UsageSummary,
  UsageSummaryQuery,
  RunnerList,
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
import { EventWaiters, NATS_CONNECTION } from '@hub/messaging';
import { assertFitsOnBus } from './bus-payload';
import { LiveSessionLogs } from './logs/live-session-logs.service';
import { OrchestrationFiles } from './orchestration-files.service';
import { Readiness } from './readiness.service';
import { SessionFiles } from './session-files.service';
import { readUntil } from './waits/read-until';

/**
 * HubApi in the gateway: the registry over NATS request/reply, logs, output files and diffs from the
 * object store (SessionFiles, OrchestrationFiles), readiness from every service (Readiness). The only code behind the
 * gateway's entrances (REST, MCP, claude-hub) that talks to NATS, so what they share is decided
 * here once: how long a call waits (the RPC catalog's `timeoutMs`, which RpcClient applies), that a
 * request NATS cannot carry is a 413 before it is sent (assertFitsOnBus), how listings are paged
 * (collectSessions) and which output files are inlined (withInlinedContents).
 */
/** After `orchestration.result`, how long the registry is given to record it: 20 × 50 ms. */
const RESULT_RECORDING_TRIES = 20;
const RESULT_RECORDING_PAUSE_MS = 50;

@Injectable()
export class NatsHubApi extends HubApi {
  constructor(
    private readonly rpc: CallerRpc,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly files: SessionFiles,
    private readonly liveLogs: LiveSessionLogs,
    private readonly orchestrationFiles: OrchestrationFiles,
    private readonly health: Readiness,
    private readonly waiters: EventWaiters,
  ) {
    super();
  }

  createSession(request: CreateSessionRequest): Promise<SessionView> {
    return this.send(RPC.createSession, request, 'the session');
  }

  startSession(sessionId: string): Promise<SessionView> {
    return this.send(RPC.startSession, { sessionId });
  }

  cancelSession(sessionId: string): Promise<SessionView> {
    return this.send(RPC.cancelSession, { sessionId });
  }

  rerunSession(sessionId: string): Promise<SessionView> {
    return this.send(RPC.rerunSession, { sessionId });
  }

  deleteSession(sessionId: string): Promise<DeletedSession> {
    return this.send(RPC.deleteSession, { sessionId });
  }

  continueSession(sessionId: string, request: ContinueSessionRequest): Promise<SessionView> {
    return this.send(RPC.continueSession, { ...request, sessionId });
  }

  getSession(sessionId: string): Promise<SessionView> {
    return this.send(RPC.getSession, { sessionId });
  }

  /** Without polling: the session.status-changed that ends it, through the gateway's one subscription (EventWaiters). */
  waitForSession(sessionId: string, timeoutSeconds: number): Promise<Waited<SessionView>> {
    return readUntil(this.waiters, {
      subject: EVENTS.sessionStatusChanged,
      id: sessionId,
      accept: (event) => isTerminal(event.data.to),
      timeoutMs: timeoutSeconds * 1000,
      read: () => this.getSession(sessionId),
      reached: (session) => isTerminal(session.status),
    });
  }

  listSessions(query: ListSessionsQuery): Promise<SessionPage> {
    return this.send(RPC.listSessions, query);
  }

  collectSessions(filter: SessionFilter, max: number): Promise<SessionView[]> {
    return collectSessions((query) => this.listSessions(query), filter, max);
  }

  async sessionStatuses(sessionIds: string[]): Promise<{ sessionId: string; status: SessionStatus }[]> {
    return (await this.send(RPC.sessionStatuses, { sessionIds })).statuses;
  }

  getSessionOutput(sessionId: string): Promise<SessionOutput> {
    return this.files.output(sessionId);
  }

  async getSessionOutputWithContents(sessionId: string): Promise<SessionOutputWithContents> {
    return withInlinedContents(await this.files.output(sessionId), (path) => this.files.listedFile(sessionId, path));
  }

  readOutputFile(sessionId: string, path: string): Promise<HubFile> {
    return this.files.file(sessionId, path);
  }

  sessionLog(sessionId: string, attempt?: number): Promise<HubFile> {
    return this.files.log(sessionId, attempt);
  }

  /** The attempt's live log; whether it is over is read through this port, as a fallback to its end marker. */
  async followSessionLog(sessionId: string, options: LogFollowOptions = {}): Promise<AsyncIterable<LiveLogLine>> {
    return this.liveLogs.follow(await this.getSession(sessionId), options, () => this.getSession(sessionId));
  }

  sessionChanges(sessionId: string): Promise<HubFile> {
    return this.files.changes(sessionId);
  }

  async createOrchestration(request: CreateOrchestrationRequest): Promise<OrchestrationView> {
    const { id } = await this.send(RPC.createOrchestration, request, 'the orchestration');
    return this.getOrchestration(id);
  }

  getOrchestration(orchestrationId: string, page: OrchestrationViewQuery = {}): Promise<OrchestrationView> {
    return this.send(RPC.getOrchestration, { orchestrationId, ...page });
  }

  waitForOrchestration(
    orchestrationId: string,
    until: OrchestrationWait,
    timeoutSeconds: number,
    page: OrchestrationViewQuery = {},
  ): Promise<Waited<OrchestrationView>> {
    const read = () => this.getOrchestration(orchestrationId, page);
    const wait = { id: orchestrationId, timeoutMs: timeoutSeconds * 1000, read };
    if (until === 'terminal') {
      return readUntil(this.waiters, { ...wait, subject: EVENTS.orchestrationFinished, reached: (view) => isOrchestrationEnded(view.status) });
    }
    return readUntil(this.waiters, {
      ...wait,
      subject: EVENTS.orchestrationResult,
      reached: (view) => Boolean(view.result),
      // A runner publishes the result and the registry then records it (or refuses a stale one): the
      // registry's word is the answer, so it is read again, briefly, until it has recorded it.
      readAfter: async () => {
        let view = await read();
        for (let tries = 0; !view.result && tries < RESULT_RECORDING_TRIES; tries++) {
          await new Promise((resolve) => setTimeout(resolve, RESULT_RECORDING_PAUSE_MS));
          view = await read();
        }
        return view;
      },
    });
  }

  listOrchestrations(query: ListOrchestrationsQuery): Promise<OrchestrationPage> {
    return this.send(RPC.listOrchestrations, query);
  }

  startOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    return this.send(RPC.startOrchestration, { orchestrationId });
  }

  cancelOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    return this.send(RPC.cancelOrchestration, { orchestrationId });
  }

  retryOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    return this.send(RPC.retryOrchestration, { orchestrationId });
  }

  deleteOrchestration(orchestrationId: string): Promise<DeletedOrchestration> {
    return this.send(RPC.deleteOrchestration, { orchestrationId });
  }

  updateOrchestration(orchestrationId: string, request: UpdateOrchestrationRequest): Promise<OrchestrationSummary> {
    return this.send(RPC.updateOrchestration, { ...request, orchestrationId });
  }

  usageSummary(query: UsageSummaryQuery): Promise<UsageSummary> {
    return this.send(RPC.usageSummary, query);
  }

  orchestrationChanges(orchestrationId: string): Promise<HubFile> {
    return this.orchestrationFiles.changes(orchestrationId);
  }

  listNotificationDeliveries(query: ListNotificationDeliveriesQuery): Promise<NotificationDeliveryPage> {
    return this.send(RPC.notificationDeliveries, query);
  }

  createApiKey(request: CreateApiKeyRequest): Promise<CreatedApiKey> {
    return this.send(RPC.createApiKey, request);
  }

  listApiKeys(query: ListApiKeysQuery): Promise<ApiKeyPage> {
    return this.send(RPC.listApiKeys, query);
  }

  revokeApiKey(keyId: string): Promise<ApiKey> {
    return this.send(RPC.revokeApiKey, { id: keyId });
  }

  listAudit(query: ListAuditQuery): Promise<AuditPage> {
    return this.send(RPC.listAudit, query);
  }

  readiness(): Promise<ReadinessReport> {
    return this.health.report();
  }

  listRunners(): Promise<RunnerList> {
    return this.send(RPC.listRunners, {});
  }

  /** Every request to a service: refused with 413, naming `what`, when NATS could not carry it. */
  private send<S extends RpcSubject>(subject: S, request: RpcRequest<S>, what = 'the request'): Promise<RpcResponse<S>> {
    assertFitsOnBus(request, this.nc.info?.max_payload, what);
    return this.rpc.call(subject, request);
  }
}
