import { Body, Controller, Get, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import {
  CreateSessionRequest,
  CreateSessionRequestSchema,
  ListSessionsQuery,
  ListSessionsQuerySchema,
  SessionOutput,
  SessionPage,
  SessionView,
} from '@hub/contracts';
import { API_PREFIX, OutputPathPipe, SessionIdPipe, ZodValidationPipe } from '@hub/gateway-http';
import { HubApi, HubFile } from '@hub/hub-api';

const streamed = (file: HubFile) => new StreamableFile(file.content, { type: file.contentType });

/** The session API: every route validates its input, then asks Hub through the port. */
@Controller(`${API_PREFIX}/sessions`)
export class SessionsController {
  constructor(private readonly hub: HubApi) {}

  @Post()
  create(@Body(new ZodValidationPipe(CreateSessionRequestSchema)) request: CreateSessionRequest): Promise<SessionView> {
    return this.hub.createSession(request);
  }

  @Get()
  list(@Query(new ZodValidationPipe(ListSessionsQuerySchema)) query: ListSessionsQuery): Promise<SessionPage> {
    return this.hub.listSessions(query);
  }

  @Get(':id')
  get(@Param('id', SessionIdPipe) sessionId: string): Promise<SessionView> {
    return this.hub.getSession(sessionId);
  }

  @Post(':id/start')
  @HttpCode(202)
  start(@Param('id', SessionIdPipe) sessionId: string): Promise<SessionView> {
    return this.hub.startSession(sessionId);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  cancel(@Param('id', SessionIdPipe) sessionId: string): Promise<SessionView> {
    return this.hub.cancelSession(sessionId);
  }

  @Get(':id/logs')
  async logs(@Param('id', SessionIdPipe) sessionId: string): Promise<StreamableFile> {
    return streamed(await this.hub.sessionLog(sessionId));
  }

  @Get(':id/changes')
  async changes(@Param('id', SessionIdPipe) sessionId: string): Promise<StreamableFile> {
    return streamed(await this.hub.sessionChanges(sessionId));
  }

  @Get(':id/output')
  output(@Param('id', SessionIdPipe) sessionId: string): Promise<SessionOutput> {
    return this.hub.getSessionOutput(sessionId);
  }

  @Get(':id/output/files/*path')
  async outputFile(@Param('id', SessionIdPipe) sessionId: string, @Param('path', OutputPathPipe) path: string): Promise<StreamableFile> {
    return streamed(await this.hub.readOutputFile(sessionId, path));
  }
}
