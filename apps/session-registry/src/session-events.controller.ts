import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EventOf, EVENTS } from '@hub/contracts';
import { RecordContainerOutcome, RecordDependencyOutcome } from '@hub/registry';

/** Facts other services publish that move a session along. */
@Controller()
export class SessionEventsController {
  constructor(
    private readonly dependencyOutcome: RecordDependencyOutcome,
    private readonly containerOutcome: RecordContainerOutcome,
  ) {}

  @EventPattern(EVENTS.depsResolved)
  onDepsResolved(@Payload() event: EventOf<'deps.resolved'>) {
    return this.dependencyOutcome.resolved(event);
  }

  @EventPattern(EVENTS.depsFailed)
  onDepsFailed(@Payload() event: EventOf<'deps.failed'>) {
    return this.dependencyOutcome.failed(event);
  }

  @EventPattern(EVENTS.containerStarted)
  onContainerStarted(@Payload() event: EventOf<'container.started'>) {
    return this.containerOutcome.started(event);
  }

  @EventPattern(EVENTS.containerExited)
  onContainerExited(@Payload() event: EventOf<'container.exited'>) {
    return this.containerOutcome.exited(event);
  }
}
