import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { readSupervisorStatus, supervisorHealthCheck } from '@hub/config';
import { HealthReport, RPC } from '@hub/contracts';
import { SessionStore } from '@hub/registry';

@Controller()
export class RegistryHealthController {
  /** How often the stack restarted this service, and why it last stopped (read once, at start). */
  private readonly restarts = supervisorHealthCheck(readSupervisorStatus());

  constructor(private readonly store: SessionStore) {}

  @MessagePattern(RPC.registryHealth)
  async onHealth(): Promise<HealthReport> {
    try {
      await this.store.ping();
      return { service: 'session-registry', checks: [{ name: 'postgresql', ok: true, detail: 'connected' }, this.restarts] };
    } catch (error) {
      return {
        service: 'session-registry',
        checks: [
          {
            name: 'postgresql',
            ok: false,
            detail: `cannot query PostgreSQL: ${(error as Error).message}`,
            fix:
              'the stack does not restart PostgreSQL: `npm run hub:down && npm run hub` starts it again on the same data ' +
              '(its log: .hub/postgres/log/hub-postgres.log); with DATABASE_URL set, check that server is running and the URL points at it',
          },
          this.restarts,
        ],
      };
    }
  }
}
