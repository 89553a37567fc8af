import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res, StreamableFile } from '@nestjs/common';
import type { Response } from 'express';
import {
  CreateOrchestrationRequest,
  CreateOrchestrationRequestSchema,
  DEFAULT_WAIT_SECONDS,
  DeletedOrchestration,
  GetOrchestrationQuery,
  GetOrchestrationQuerySchema,
  ListOrchestrationsQuery,
  ListOrchestrationsQuerySchema,
  OrchestrationPage,
  OrchestrationSummary,
  OrchestrationView,
  UpdateOrchestrationRequest,
  UpdateOrchestrationRequestSchema,
} from '@hub/contracts';
import { API_PREFIX, OrchestrationIdPipe, ZodValidationPipe } from '@hub/gateway-http';
import { HubApi } from '@hub/hub-api';
import { streamed } from './streamed-file';
import { answerWaited } from './waited';

/** The orchestration API: DAGs of sessions, created, started, cancelled and deleted as one. */
@Controller(`${API_PREFIX}/orchestrations`)
export class OrchestrationsController {
  constructor(private readonly hub: HubApi) {}

  @Post()
  create(@Body(new ZodValidationPipe(CreateOrchestrationRequestSchema)) request: CreateOrchestrationRequest): Promise<OrchestrationView> {
    return this.hub.createOrchestration(request);
  }

  @Get()
  list(@Query(new ZodValidationPipe(ListOrchestrationsQuerySchema)) query: ListOrchestrationsQuery): Promise<OrchestrationPage> {
    return this.hub.listOrchestrations(query);
  }

  /**
   * `?limit=&cursor=` page its sessions (ORCHESTRATION_VIEW_SESSIONS by default); `nextCursor` reads on.
   * `?wait=terminal|result&timeoutSeconds=n`: answered once it has ended (its result is recorded), or as
   * it is at the timeout (header Hub-Wait).
   */
  @Get(':id')
  async get(
    @Param('id', OrchestrationIdPipe) orchestrationId: string,
    @Query(new ZodValidationPipe(GetOrchestrationQuerySchema)) { wait, timeoutSeconds = DEFAULT_WAIT_SECONDS, ...page }: GetOrchestrationQuery,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OrchestrationView> {
    if (!wait) return this.hub.getOrchestration(orchestrationId, page);
    return answerWaited(res, await this.hub.waitForOrchestration(orchestrationId, wait, timeoutSeconds, page));
  }

  /** Replaces its budget (null removes it); `retry` then runs what was skipped for the old one. */
  @Patch(':id')
  update(
    @Param('id', OrchestrationIdPipe) orchestrationId: string,
    @Body(new ZodValidationPipe(UpdateOrchestrationRequestSchema)) request: UpdateOrchestrationRequest,
  ): Promise<OrchestrationSummary> {
    return this.hub.updateOrchestration(orchestrationId, request);
  }

  /** An orchestration whose every session ended, with its sessions and their outputs; 409 naming those that have not. */
  @Delete(':id')
  delete(@Param('id', OrchestrationIdPipe) orchestrationId: string): Promise<DeletedOrchestration> {
    return this.hub.deleteOrchestration(orchestrationId);
  }

  /** The unified diff of its combined change; 404 saying why when there is none (yet). */
  @Get(':id/changes')
  async changes(@Param('id', OrchestrationIdPipe) orchestrationId: string): Promise<StreamableFile> {
    return streamed(await this.hub.orchestrationChanges(orchestrationId));
  }

  @Post(':id/start')
  @HttpCode(202)
  start(@Param('id', OrchestrationIdPipe) orchestrationId: string): Promise<OrchestrationSummary> {
    return this.hub.startOrchestration(orchestrationId);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  cancel(@Param('id', OrchestrationIdPipe) orchestrationId: string): Promise<OrchestrationSummary> {
    return this.hub.cancelOrchestration(orchestrationId);
  }

  /** Runs its failed, timed-out, cancelled and skipped sessions again; 409 while it runs, or when none is to. */
  @Post(':id/retry')
  @HttpCode(202)
  retry(@Param('id', OrchestrationIdPipe) orchestrationId: string): Promise<OrchestrationSummary> {
    return this.hub.retryOrchestration(orchestrationId);
  }
}
