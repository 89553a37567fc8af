import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EventOf, EVENTS } from '@hub/contracts';
import { ResolveDependencies } from '@hub/resolver';

@Controller()
export class DependencyEventsController {
  constructor(private readonly resolveDependencies: ResolveDependencies) {}

  @EventPattern(EVENTS.sessionStartRequested)
  onSessionStartRequested(@Payload() event: EventOf<'session.start-requested'>) {
    return this.resolveDependencies.onStartRequested(event);
  }

  @EventPattern(EVENTS.sessionStatusChanged)
  onSessionStatusChanged(@Payload() event: EventOf<'session.status-changed'>) {
    return this.resolveDependencies.onStatusChanged(event);
  }
}
