import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import type { Request, Response } from 'express';
import { HUB_LOGGER, type HubLogger } from '@hub/config';
import {
  ContinueSessionRequest,
  ContinueSessionRequestSchema,
  CreateSessionRequest,
  CreateSessionRequestSchema,
  DEFAULT_WAIT_SECONDS,
  DeletedSession,
  GetSessionQuery,
  GetSessionQuerySchema,
  ListSessionsQuery,
  ListSessionsQuerySchema,
  SessionLogQuery,
  SessionLogQuerySchema,
  SessionOutput,
  SessionPage,
  SessionView,
} from '@hub/contracts';
import { API_PREFIX, OutputPathPipe, sendSessionLog, SessionIdPipe, ZodValidationPipe } from '@hub/gateway-http';
import { HubApi } from '@hub/hub-api';
import { streamed } from './streamed-file';
import { answerWaited } from './waited';

/** The session API: every route validates its input, then asks Hub through the port. */
@Controller(`${API_PREFIX}/sessions`)
export class SessionsController {
  constructor(
    private readonly hub: HubApi,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  @Post()
  create(@Body(new ZodValidationPipe(CreateSessionRequestSchema)) request: CreateSessionRequest): Promise<SessionView> {
    return this.hub.createSession(request);
  }

  @Get()
  list(@Query(new ZodValidationPipe(ListSessionsQuerySchema)) query: ListSessionsQuery): Promise<SessionPage> {
    return this.hub.listSessions(query);
  }

  /** `?wait=terminal&timeoutSeconds=n`: answered once it has ended, or as it is at the timeout (header Hub-Wait). */
  @Get(':id')
  async get(
    @Param('id', SessionIdPipe) sessionId: string,
    @Query(new ZodValidationPipe(GetSessionQuerySchema)) { wait, timeoutSeconds = DEFAULT_WAIT_SECONDS }: GetSessionQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionView> {
    if (!wait) return this.hub.getSession(sessionId);
    return answerWaited(res, await this.hub.waitForSession(sessionId, timeoutSeconds));
  }

  /** An ended session no session depends on (its orchestration too when it was the last); 409 saying why otherwise. */
  @Delete(':id')
  delete(@Param('id', SessionIdPipe) sessionId: string): Promise<DeletedSession> {
    return this.hub.deleteSession(sessionId);
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

  /** Runs an ended session again, with its dependents that did not complete; 409 while it is on its way. */
  @Post(':id/rerun')
  @HttpCode(202)
  rerun(@Param('id', SessionIdPipe) sessionId: string): Promise<SessionView> {
    return this.hub.rerunSession(sessionId);
  }

  /** A follow-up in the same conversation: a new session that resumes this completed one's; 409 unless it completed. */
  @Post(':id/continue')
  continue(
    @Param('id', SessionIdPipe) sessionId: string,
    @Body(new ZodValidationPipe(ContinueSessionRequestSchema)) request: ContinueSessionRequest,
  ): Promise<SessionView> {
    return this.hub.continueSession(sessionId, request);
  }

  /** `?attempt=n` (default the latest); `?follow=true`: its lines as printed, NDJSON or SSE, until it ends. */
  @Get(':id/logs')
  logs(
    @Param('id', SessionIdPipe) sessionId: string,
    @Query(new ZodValidationPipe(SessionLogQuerySchema)) query: SessionLogQuery,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    return sendSessionLog(this.hub, sessionId, query, req, res, this.logger);
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
