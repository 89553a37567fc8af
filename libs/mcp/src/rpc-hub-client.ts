import type { Readable } from 'node:stream';
import type { StreamableFile } from '@nestjs/common';
import {
  CreateOrchestrationRequest,
  CreateOrchestrationRequestSchema,
  CreateSessionRequest,
  CreateSessionRequestSchema,
  ListSessionsQuery,
  ListSessionsQuerySchema,
  OrchestrationView,
  RPC,
  SessionOutput,
  SessionPage,
  SessionView,
} from '@hub/contracts';
// Types only: the gateway hands in its instances, and the stdio binary (which imports this
// library too) does not load Nest, express and NATS for nothing.
import type { OrchestrationViews, SessionFiles } from '@hub/gateway-http';
import type { RpcClient } from '@hub/messaging';
import { parseContractRequest } from './contract-request';
import type { HubClient } from './hub-client.port';

async function bytesOf(file: StreamableFile): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of file.getStream() as Readable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * Hub as the gateway's REST controllers reach it: the registry over NATS request/reply, logs and
 * output files from the object store. Requests are validated as the REST API validates them, with
 * the same messages, so a tool refuses exactly what the REST API refuses.
 */
export class RpcHubClient implements HubClient {
  constructor(
    private readonly rpc: RpcClient,
    private readonly files: SessionFiles,
    private readonly views: OrchestrationViews,
  ) {}

  createSession(request: CreateSessionRequest): Promise<SessionView> {
    return this.rpc.call(RPC.createSession, parseContractRequest(CreateSessionRequestSchema, request));
  }

  startSession(sessionId: string): Promise<SessionView> {
    return this.rpc.call(RPC.startSession, { sessionId });
  }

  getSession(sessionId: string): Promise<SessionView> {
    return this.rpc.call(RPC.getSession, { sessionId });
  }

  listSessions(query: ListSessionsQuery): Promise<SessionPage> {
    return this.rpc.call(RPC.listSessions, parseContractRequest(ListSessionsQuerySchema, query));
  }

  cancelSession(sessionId: string): Promise<SessionView> {
    return this.rpc.call(RPC.cancelSession, { sessionId });
  }

  getSessionOutput(sessionId: string): Promise<SessionOutput> {
    return this.files.output(sessionId);
  }

  /** Only a path of the session's output listing is served (SessionFiles checks), so `..` reaches nothing. */
  async readOutputFile(sessionId: string, path: string): Promise<Buffer> {
    return bytesOf(await this.files.file(sessionId, path));
  }

  async getSessionLogs(sessionId: string): Promise<string> {
    return (await bytesOf(await this.files.log(sessionId))).toString('utf8');
  }

  async createOrchestration(request: CreateOrchestrationRequest): Promise<OrchestrationView> {
    const valid = parseContractRequest(CreateOrchestrationRequestSchema, request);
    return this.views.withSessions(await this.rpc.call(RPC.createOrchestration, valid, 30_000));
  }
}
