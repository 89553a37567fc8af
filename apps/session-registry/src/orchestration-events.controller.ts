import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EventOf, EVENTS } from '@hub/contracts';
import { RecordOrchestrationResult } from '@hub/registry';

/** Facts other services publish about a whole orchestration. */
@Controller()
export class OrchestrationEventsController {
  constructor(private readonly recordResult: RecordOrchestrationResult) {}

  @EventPattern(EVENTS.orchestrationResult)
  onOrchestrationResult(@Payload() event: EventOf<'orchestration.result'>) {
    return this.recordResult.execute(event);
  }
}
