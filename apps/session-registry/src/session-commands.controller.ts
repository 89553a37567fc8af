import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { RPC, RpcRequest } from '@hub/contracts';
import { RpcCall } from '@hub/messaging';
import {
  CancelSession,
  ClaimSession,
  ContinueSession,
  CreateSession,
  DeleteSession,
  EVERY_TENANT,
  RerunSession,
  SessionQueries,
  StartSession,
} from '@hub/registry';

/**
 * Commands and queries other services send the registry (request/reply). The gateway's act for its
 * caller, within the caller's tenant; the runners' and the resolver's see every tenant.
 */
@Controller()
export class SessionCommandsController {
  constructor(
    private readonly createSession: CreateSession,
    private readonly startSession: StartSession,
    private readonly cancelSession: CancelSession,
    private readonly rerunSession: RerunSession,
    private readonly continueSession: ContinueSession,
    private readonly deleteSession: DeleteSession,
    private readonly claimSession: ClaimSession,
    private readonly queries: SessionQueries,
  ) {}

  @MessagePattern(RPC.createSession)
  onCreateSession(@Payload() request: RpcRequest<typeof RPC.createSession>, @Ctx() call: RpcCall) {
    return this.createSession.execute(request, call.caller.tenant, call.caller.key);
  }

  @MessagePattern(RPC.startSession)
  onStartSession(@Payload() { sessionId }: RpcRequest<typeof RPC.startSession>, @Ctx() call: RpcCall) {
    return this.startSession.execute(sessionId, call.caller.tenant);
  }

  @MessagePattern(RPC.cancelSession)
  onCancelSession(@Payload() { sessionId }: RpcRequest<typeof RPC.cancelSession>, @Ctx() call: RpcCall) {
    return this.cancelSession.execute(sessionId, call.caller.tenant);
  }

  @MessagePattern(RPC.rerunSession)
  onRerunSession(@Payload() { sessionId }: RpcRequest<typeof RPC.rerunSession>, @Ctx() call: RpcCall) {
    return this.rerunSession.execute(sessionId, call.caller.tenant);
  }

  @MessagePattern(RPC.continueSession)
  onContinueSession(@Payload() command: RpcRequest<typeof RPC.continueSession>, @Ctx() call: RpcCall) {
    return this.continueSession.execute(command, call.caller.tenant);
  }

  @MessagePattern(RPC.deleteSession)
  onDeleteSession(@Payload() { sessionId }: RpcRequest<typeof RPC.deleteSession>, @Ctx() call: RpcCall) {
    return this.deleteSession.execute(sessionId, call.caller.tenant);
  }

  @MessagePattern(RPC.claimSession)
  onClaimSession(@Payload() { sessionId, runnerId }: RpcRequest<typeof RPC.claimSession>) {
    return this.claimSession.execute(sessionId, runnerId);
  }

  @MessagePattern(RPC.heldSessions)
  onHeldSessions(@Payload() { runnerId, after }: RpcRequest<typeof RPC.heldSessions>) {
    return this.queries.heldBy(runnerId, after);
  }

  @MessagePattern(RPC.readyLabelSets)
  onReadyLabelSets() {
    return this.queries.readyLabelSets();
  }

  @MessagePattern(RPC.waitingSessions)
  onWaitingSessions(@Payload() { limit }: RpcRequest<typeof RPC.waitingSessions>) {
    return this.queries.waiting(limit);
  }

  @MessagePattern(RPC.getSession)
  onGetSession(@Payload() { sessionId }: RpcRequest<typeof RPC.getSession>, @Ctx() call: RpcCall) {
    return this.queries.get(sessionId, call.caller.tenant);
  }

  @MessagePattern(RPC.listSessions)
  onListSessions(@Payload() query: RpcRequest<typeof RPC.listSessions>, @Ctx() call: RpcCall) {
    return this.queries.list(query, call.caller.tenant);
  }

  @MessagePattern(RPC.getSessionOutput)
  onGetSessionOutput(@Payload() { sessionId }: RpcRequest<typeof RPC.getSessionOutput>, @Ctx() call: RpcCall) {
    return this.queries.output(sessionId, call.caller.tenant);
  }

  @MessagePattern(RPC.sessionStatuses)
  onSessionStatuses(@Payload() { sessionIds }: RpcRequest<typeof RPC.sessionStatuses>, @Ctx() call: RpcCall) {
    return this.queries.statuses(sessionIds, call.caller.tenant);
  }

  @MessagePattern(RPC.dependencyStatuses)
  onDependencyStatuses(@Payload() { sessionIds }: RpcRequest<typeof RPC.dependencyStatuses>) {
    return this.queries.statuses(sessionIds, EVERY_TENANT);
  }

  @MessagePattern(RPC.sessionDependents)
  onSessionDependents(@Payload() { sessionId }: RpcRequest<typeof RPC.sessionDependents>) {
    return this.queries.dependents(sessionId);
  }
}
