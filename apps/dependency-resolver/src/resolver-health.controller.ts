import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { HealthReport, RPC } from '@hub/contracts';

/** Answers on NATS when the resolver is up and taking events (it needs nothing else to decide). */
@Controller()
export class ResolverHealthController {
  @MessagePattern(RPC.resolverHealth)
  onHealth(): HealthReport {
    return { service: 'dependency-resolver', checks: [{ name: 'events', ok: true, detail: 'consuming session.start-requested and session.status-changed' }] };
  }
}
