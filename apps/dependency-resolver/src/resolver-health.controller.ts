import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { readSupervisorStatus, supervisorHealthCheck } from '@hub/config';
import { HealthReport, RPC } from '@hub/contracts';

/** Answers on NATS when the resolver is up and taking events (it needs nothing else to decide). */
@Controller()
export class ResolverHealthController {
  /** How often the stack restarted this service, and why it last stopped (read once, at start). */
  private readonly restarts = supervisorHealthCheck(readSupervisorStatus());

  @MessagePattern(RPC.resolverHealth)
  onHealth(): HealthReport {
    return {
      service: 'dependency-resolver',
      checks: [{ name: 'events', ok: true, detail: 'consuming session.start-requested and session.status-changed' }, this.restarts],
    };
  }
}
