import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RPC, RpcRequest } from '@hub/contracts';
import { CancelSession, ClaimSession, ContinueSession, CreateSession, RerunSession, SessionQueries, StartSession } from '@hub/registry';

/** Commands and queries other services send the registry (request/reply). */
@Controller()
export class SessionCommandsController {
  constructor(
    private readonly createSession: CreateSession,
    private readonly startSession: StartSession,
    private readonly cancelSession: CancelSession,
    private readonly rerunSession: RerunSession,
    private readonly continueSession: ContinueSession,
    private readonly claimSession: ClaimSession,
    private readonly queries: SessionQueries,
  ) {}

  @MessagePattern(RPC.createSession)
  onCreateSession(@Payload() request: RpcRequest<typeof RPC.createSession>) {
    return this.createSession.execute(request);
  }

  @MessagePattern(RPC.startSession)
  onStartSession(@Payload() { sessionId }: RpcRequest<typeof RPC.startSession>) {
    return this.startSession.execute(sessionId);
  }

  @MessagePattern(RPC.cancelSession)
  onCancelSession(@Payload() { sessionId }: RpcRequest<typeof RPC.cancelSession>) {
    return this.cancelSession.execute(sessionId);
  }

  @MessagePattern(RPC.rerunSession)
  onRerunSession(@Payload() { sessionId }: RpcRequest<typeof RPC.rerunSession>) {
    return this.rerunSession.execute(sessionId);
  }

  @MessagePattern(RPC.continueSession)
  onContinueSession(@Payload() command: RpcRequest<typeof RPC.continueSession>) {
    return this.continueSession.execute(command);
  }

  @MessagePattern(RPC.claimSession)
  onClaimSession(@Payload() { sessionId, runnerId }: RpcRequest<typeof RPC.claimSession>) {
    return this.claimSession.execute(sessionId, runnerId);
  }

  @MessagePattern(RPC.heldSessions)
  onHeldSessions(@Payload() { runnerId, after }: RpcRequest<typeof RPC.heldSessions>) {
    return this.queries.heldBy(runnerId, after);
  }

  @MessagePattern(RPC.waitingSessions)
  onWaitingSessions(@Payload() { limit }: RpcRequest<typeof RPC.waitingSessions>) {
    return this.queries.waiting(limit);
  }

  @MessagePattern(RPC.getSession)
  onGetSession(@Payload() { sessionId }: RpcRequest<typeof RPC.getSession>) {
    return this.queries.get(sessionId);
  }

  @MessagePattern(RPC.listSessions)
  onListSessions(@Payload() query: RpcRequest<typeof RPC.listSessions>) {
    return this.queries.list(query);
  }

  @MessagePattern(RPC.getSessionOutput)
  onGetSessionOutput(@Payload() { sessionId }: RpcRequest<typeof RPC.getSessionOutput>) {
    return this.queries.output(sessionId);
  }

  @MessagePattern(RPC.sessionStatuses)
  onSessionStatuses(@Payload() { sessionIds }: RpcRequest<typeof RPC.sessionStatuses>) {
    return this.queries.statuses(sessionIds);
  }

  @MessagePattern(RPC.dependencyStatuses)
  onDependencyStatuses(@Payload() { sessionIds }: RpcRequest<typeof RPC.dependencyStatuses>) {
    return this.queries.statuses(sessionIds);
  }

  @MessagePattern(RPC.sessionDependents)
  onSessionDependents(@Payload() { sessionId }: RpcRequest<typeof RPC.sessionDependents>) {
    return this.queries.dependents(sessionId);
  }
}
