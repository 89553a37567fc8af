import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { RPC, RpcRequest } from '@hub/contracts';
import { RpcCall } from '@hub/messaging';
import {
  CancelOrchestration,
  CreateOrchestration,
  DeleteOrchestration,
  EVERY_TENANT,
  OrchestrationQueries,
  RetryOrchestration,
  StartOrchestration,
  UpdateOrchestrationBudget,
  UsageQueries,
} from '@hub/registry';

/**
 * Orchestration commands and queries (request/reply): the gateway's within its caller's tenant, a runner's in any.
 * An orchestration records the caller's key as its creator; what the tenant's spent is summed per creator.
 */
@Controller()
export class OrchestrationCommandsController {
  constructor(
    private readonly createOrchestration: CreateOrchestration,
    private readonly startOrchestration: StartOrchestration,
    private readonly cancelOrchestration: CancelOrchestration,
    private readonly retryOrchestration: RetryOrchestration,
    private readonly deleteOrchestration: DeleteOrchestration,
    private readonly updateBudget: UpdateOrchestrationBudget,
    private readonly queries: OrchestrationQueries,
    private readonly usage: UsageQueries,
  ) {}

  @MessagePattern(RPC.createOrchestration)
  onCreateOrchestration(@Payload() request: RpcRequest<typeof RPC.createOrchestration>, @Ctx() call: RpcCall) {
    return this.createOrchestration.execute(request, call.caller.tenant, call.caller.key);
  }

  @MessagePattern(RPC.startOrchestration)
  onStartOrchestration(@Payload() { orchestrationId }: RpcRequest<typeof RPC.startOrchestration>, @Ctx() call: RpcCall) {
    return this.startOrchestration.execute(orchestrationId, call.caller.tenant);
  }

  @MessagePattern(RPC.cancelOrchestration)
  onCancelOrchestration(@Payload() { orchestrationId }: RpcRequest<typeof RPC.cancelOrchestration>, @Ctx() call: RpcCall) {
    return this.cancelOrchestration.execute(orchestrationId, call.caller.tenant);
  }

  @MessagePattern(RPC.retryOrchestration)
  onRetryOrchestration(@Payload() { orchestrationId }: RpcRequest<typeof RPC.retryOrchestration>, @Ctx() call: RpcCall) {
    return this.retryOrchestration.execute(orchestrationId, call.caller.tenant);
  }

  @MessagePattern(RPC.deleteOrchestration)
  onDeleteOrchestration(@Payload() { orchestrationId }: RpcRequest<typeof RPC.deleteOrchestration>, @Ctx() call: RpcCall) {
    return this.deleteOrchestration.execute(orchestrationId, call.caller.tenant);
  }

  @MessagePattern(RPC.updateOrchestration)
  onUpdateOrchestration(@Payload() command: RpcRequest<typeof RPC.updateOrchestration>, @Ctx() call: RpcCall) {
    return this.updateBudget.execute(command, call.caller.tenant);
  }

  @MessagePattern(RPC.getOrchestration)
  onGetOrchestration(@Payload() { orchestrationId, ...page }: RpcRequest<typeof RPC.getOrchestration>, @Ctx() call: RpcCall) {
    return this.queries.get(orchestrationId, page, call.caller.tenant);
  }

  @MessagePattern(RPC.readOrchestration)
  onReadOrchestration(@Payload() { orchestrationId, ...page }: RpcRequest<typeof RPC.readOrchestration>) {
    return this.queries.get(orchestrationId, page, EVERY_TENANT);
  }

  @MessagePattern(RPC.listOrchestrations)
  onListOrchestrations(@Payload() query: RpcRequest<typeof RPC.listOrchestrations>, @Ctx() call: RpcCall) {
    return this.queries.list(query, call.caller.tenant);
  }

  @MessagePattern(RPC.usageSummary)
  onUsageSummary(@Payload() query: RpcRequest<typeof RPC.usageSummary>, @Ctx() call: RpcCall) {
    return this.usage.summary(query, call.caller.tenant);
  }
}
