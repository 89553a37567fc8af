import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { NatsConnection } from 'nats';
import {
  CreateOrchestrationRequest,
  CreateOrchestrationRequestSchema,
  ListOrchestrationsQuery,
  ListOrchestrationsQuerySchema,
  OrchestrationPage,
  OrchestrationSummary,
  OrchestrationView,
  RPC,
} from '@hub/contracts';
import { API_PREFIX, assertFitsOnBus, OrchestrationIdPipe, OrchestrationViews, ZodValidationPipe } from '@hub/gateway-http';
import { NATS_CONNECTION, RpcClient } from '@hub/messaging';

/** The orchestration API: DAGs of sessions, created, started and cancelled as one. */
@Controller(`${API_PREFIX}/orchestrations`)
export class OrchestrationsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly views: OrchestrationViews,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  @Post()
  async create(
    @Body(new ZodValidationPipe(CreateOrchestrationRequestSchema)) request: CreateOrchestrationRequest,
  ): Promise<OrchestrationView> {
    assertFitsOnBus(request, this.nc.info?.max_payload, 'the orchestration');
    return this.views.withSessions(await this.rpc.call(RPC.createOrchestration, request, 30_000));
  }

  @Get()
  list(@Query(new ZodValidationPipe(ListOrchestrationsQuerySchema)) query: ListOrchestrationsQuery): Promise<OrchestrationPage> {
    return this.rpc.call(RPC.listOrchestrations, query);
  }

  @Get(':id')
  async get(@Param('id', OrchestrationIdPipe) orchestrationId: string): Promise<OrchestrationView> {
    return this.views.withSessions(await this.rpc.call(RPC.getOrchestration, { orchestrationId }));
  }

  @Post(':id/start')
  @HttpCode(202)
  start(@Param('id', OrchestrationIdPipe) orchestrationId: string): Promise<OrchestrationSummary> {
    return this.rpc.call(RPC.startOrchestration, { orchestrationId }, 30_000);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  cancel(@Param('id', OrchestrationIdPipe) orchestrationId: string): Promise<OrchestrationSummary> {
    return this.rpc.call(RPC.cancelOrchestration, { orchestrationId }, 30_000);
  }
}
