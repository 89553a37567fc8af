import { Body, Controller, Get, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import {
  CreateSessionRequest,
  CreateSessionRequestSchema,
  ListSessionsQuery,
  ListSessionsQuerySchema,
  RPC,
  SessionOutput,
  SessionPage,
  SessionView,
} from '@hub/contracts';
import { API_PREFIX, OutputPathPipe, SessionFiles, SessionIdPipe, ZodValidationPipe } from '@hub/gateway-http';
import { RpcClient } from '@hub/messaging';

/** The session API: every route validates its input, then asks the registry over NATS. */
@Controller(`${API_PREFIX}/sessions`)
export class SessionsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly files: SessionFiles,
  ) {}

  @Post()
  create(@Body(new ZodValidationPipe(CreateSessionRequestSchema)) request: CreateSessionRequest): Promise<SessionView> {
    return this.rpc.call(RPC.createSession, request);
  }

  @Get()
  list(@Query(new ZodValidationPipe(ListSessionsQuerySchema)) query: ListSessionsQuery): Promise<SessionPage> {
    return this.rpc.call(RPC.listSessions, query);
  }

  @Get(':id')
  get(@Param('id', SessionIdPipe) sessionId: string): Promise<SessionView> {
    return this.rpc.call(RPC.getSession, { sessionId });
  }

  @Post(':id/start')
  @HttpCode(202)
  start(@Param('id', SessionIdPipe) sessionId: string): Promise<SessionView> {
    return this.rpc.call(RPC.startSession, { sessionId });
  }

  @Post(':id/cancel')
  @HttpCode(202)
  cancel(@Param('id', SessionIdPipe) sessionId: string): Promise<SessionView> {
    return this.rpc.call(RPC.cancelSession, { sessionId });
  }

  @Get(':id/logs')
  logs(@Param('id', SessionIdPipe) sessionId: string): Promise<StreamableFile> {
    return this.files.log(sessionId);
  }

  @Get(':id/output')
  output(@Param('id', SessionIdPipe) sessionId: string): Promise<SessionOutput> {
    return this.files.output(sessionId);
  }

  @Get(':id/output/files/*path')
  outputFile(@Param('id', SessionIdPipe) sessionId: string, @Param('path', OutputPathPipe) path: string): Promise<StreamableFile> {
    return this.files.file(sessionId, path);
  }
}
