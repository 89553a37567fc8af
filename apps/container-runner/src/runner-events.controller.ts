import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { EventOf, EVENTS, RPC } from '@hub/contracts';
import { RunnerHealth, RunSession } from '@hub/runner';

@Controller()
export class RunnerEventsController {
  constructor(
    private readonly runSession: RunSession,
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

  @MessagePattern(RPC.runnerHealth)
  onHealth() {
    return this.health.report();
  }
}
