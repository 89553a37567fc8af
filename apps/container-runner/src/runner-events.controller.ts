import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { readSupervisorStatus, supervisorHealthCheck } from '@hub/config';
import { EventOf, EVENTS, HealthReport, RPC } from '@hub/contracts';
import { CombineOrchestration, RemoveDeletedOutputs, RunnerHealth, RunSession } from '@hub/runner';

@Controller()
export class RunnerEventsController {
  /** How often the stack restarted this runner, and why it last stopped (read once, at start). */
  private readonly restarts = supervisorHealthCheck(readSupervisorStatus());

  constructor(
    private readonly runSession: RunSession,
    private readonly combineOrchestration: CombineOrchestration,
    private readonly removeDeletedOutputs: RemoveDeletedOutputs,
    private readonly health: RunnerHealth,
  ) {}

  @EventPattern(EVENTS.sessionReady)
  onSessionReady(@Payload() event: EventOf<'session.ready'>) {
    return this.runSession.onReady(event);
  }

  @EventPattern(EVENTS.sessionCancelRequested)
  onSessionCancelRequested(@Payload() event: EventOf<'session.cancel-requested'>) {
    return this.runSession.onCancelRequested(event);
  }

  @EventPattern(EVENTS.orchestrationFinished)
  onOrchestrationFinished(@Payload() event: EventOf<'orchestration.finished'>) {
    return this.combineOrchestration.onFinished(event);
  }

  @EventPattern(EVENTS.sessionDeleted)
  onSessionDeleted(@Payload() event: EventOf<'session.deleted'>) {
    return this.removeDeletedOutputs.onSessionDeleted(event);
  }

  @EventPattern(EVENTS.orchestrationDeleted)
  onOrchestrationDeleted(@Payload() event: EventOf<'orchestration.deleted'>) {
    return this.removeDeletedOutputs.onOrchestrationDeleted(event);
  }

  @MessagePattern(RPC.runnerHealth)
  async onHealth(): Promise<HealthReport> {
    const report = await this.health.report();
    return { ...report, checks: [...report.checks, this.restarts] };
  }
}
