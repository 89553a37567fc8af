import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RPC, RpcRequest } from '@hub/contracts';
import {
  CancelOrchestration,
  CreateOrchestration,
  OrchestrationQueries,
  RetryOrchestration,
  StartOrchestration,
  UpdateOrchestrationBudget,
} from '@hub/registry';

/** Orchestration commands and queries (request/reply). */
@Controller()
export class OrchestrationCommandsController {
  constructor(
    private readonly createOrchestration: CreateOrchestration,
    private readonly startOrchestration: StartOrchestration,
    private readonly cancelOrchestration: CancelOrchestration,
    private readonly retryOrchestration: RetryOrchestration,
    private readonly updateBudget: UpdateOrchestrationBudget,
    private readonly queries: OrchestrationQueries,
  ) {}

  @MessagePattern(RPC.createOrchestration)
  onCreateOrchestration(@Payload() request: RpcRequest<typeof RPC.createOrchestration>) {
    return this.createOrchestration.execute(request);
  }

  @MessagePattern(RPC.startOrchestration)
  onStartOrchestration(@Payload() { orchestrationId }: RpcRequest<typeof RPC.startOrchestration>) {
    return this.startOrchestration.execute(orchestrationId);
  }

  @MessagePattern(RPC.cancelOrchestration)
  onCancelOrchestration(@Payload() { orchestrationId }: RpcRequest<typeof RPC.cancelOrchestration>) {
    return this.cancelOrchestration.execute(orchestrationId);
  }

  @MessagePattern(RPC.retryOrchestration)
  onRetryOrchestration(@Payload() { orchestrationId }: RpcRequest<typeof RPC.retryOrchestration>) {
    return this.retryOrchestration.execute(orchestrationId);
  }

  @MessagePattern(RPC.updateOrchestration)
  onUpdateOrchestration(@Payload() command: RpcRequest<typeof RPC.updateOrchestration>) {
    return this.updateBudget.execute(command);
  }

  @MessagePattern(RPC.getOrchestration)
  onGetOrchestration(@Payload() { orchestrationId, ...page }: RpcRequest<typeof RPC.getOrchestration>) {
    return this.queries.get(orchestrationId, page);
  }

  @MessagePattern(RPC.readOrchestration)
  onReadOrchestration(@Payload() { orchestrationId, ...page }: RpcRequest<typeof RPC.readOrchestration>) {
    return this.queries.get(orchestrationId, page);
  }

  @MessagePattern(RPC.listOrchestrations)
  onListOrchestrations(@Payload() query: RpcRequest<typeof RPC.listOrchestrations>) {
    return this.queries.list(query);
  }
}
