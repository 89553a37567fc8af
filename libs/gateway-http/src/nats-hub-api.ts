import { Inject, Injectable } from '@nestjs/common';
import { NatsConnection } from 'nats';
import {
  CreateOrchestrationRequest,
  CreateSessionRequest,
  ListOrchestrationsQuery,
  ListSessionsQuery,
  OrchestrationPage,
  OrchestrationSummary,
  OrchestrationView,
  OrchestrationViewQuery,
  RPC,
  RpcRequest,
  RpcResponse,
  RpcSubject,
  SessionOutput,
  SessionPage,
  SessionStatus,
  SessionView,
} from '@hub/contracts';
import {
  collectSessions,
  HubApi,
  HubFile,
  ReadinessReport,
  SessionFilter,
  SessionOutputWithContents,
  withInlinedContents,
} from '@hub/hub-api';
import { NATS_CONNECTION, RpcClient } from '@hub/messaging';
import { assertFitsOnBus } from './bus-payload';
import { Readiness } from './readiness.service';
import { SessionFiles } from './session-files.service';

/**
 * HubApi in the gateway: the registry over NATS request/reply, logs and output files from the
 * object store (SessionFiles), readiness from every service (Readiness). The only code behind the
 * gateway's entrances (REST, MCP, claude-hub) that talks to NATS, so what they share is decided
 * here once: how long a call waits (the RPC catalog's `timeoutMs`, which RpcClient applies), that a
 * request NATS cannot carry is a 413 before it is sent (assertFitsOnBus), how listings are paged
 * (collectSessions) and which output files are inlined (withInlinedContents).
 */
@Injectable()
export class NatsHubApi extends HubApi {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly files: SessionFiles,
    private readonly health: Readiness,
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

  getSession(sessionId: string): Promise<SessionView> {
    return this.send(RPC.getSession, { sessionId });
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

  sessionLog(sessionId: string): Promise<HubFile> {
    return this.files.log(sessionId);
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

  listOrchestrations(query: ListOrchestrationsQuery): Promise<OrchestrationPage> {
    return this.send(RPC.listOrchestrations, query);
  }

  startOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    return this.send(RPC.startOrchestration, { orchestrationId });
  }

  cancelOrchestration(orchestrationId: string): Promise<OrchestrationSummary> {
    return this.send(RPC.cancelOrchestration, { orchestrationId });
  }

  readiness(): Promise<ReadinessReport> {
    return this.health.report();
  }

  /** Every request to a service: refused with 413, naming `what`, when NATS could not carry it. */
  private send<S extends RpcSubject>(subject: S, request: RpcRequest<S>, what = 'the request'): Promise<RpcResponse<S>> {
    assertFitsOnBus(request, this.nc.info?.max_payload, what);
    return this.rpc.call(subject, request);
  }
}
