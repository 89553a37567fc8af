import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  CreateOrchestrationRequest,
  CreateOrchestrationRequestSchema,
  ListOrchestrationsQuery,
  ListOrchestrationsQuerySchema,
  OrchestrationPage,
  OrchestrationSummary,
  OrchestrationView,
  OrchestrationViewQuery,
  OrchestrationViewQuerySchema,
} from '@hub/contracts';
import { API_PREFIX, OrchestrationIdPipe, ZodValidationPipe } from '@hub/gateway-http';
import { HubApi } from '@hub/hub-api';

/** The orchestration API: DAGs of sessions, created, started and cancelled as one. */
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

  /** `?limit=&cursor=` page its sessions (ORCHESTRATION_VIEW_SESSIONS by default); `nextCursor` reads on. */
  @Get(':id')
  get(
    @Param('id', OrchestrationIdPipe) orchestrationId: string,
    @Query(new ZodValidationPipe(OrchestrationViewQuerySchema)) page: OrchestrationViewQuery,
  ): Promise<OrchestrationView> {
    return this.hub.getOrchestration(orchestrationId, page);
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
}
