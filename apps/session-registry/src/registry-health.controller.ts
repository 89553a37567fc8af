import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { HealthReport, RPC } from '@hub/contracts';
import { SessionStore } from '@hub/registry';

@Controller()
export class RegistryHealthController {
  constructor(private readonly store: SessionStore) {}

  @MessagePattern(RPC.registryHealth)
  async onHealth(): Promise<HealthReport> {
    try {
      await this.store.ping();
      return { service: 'session-registry', checks: [{ name: 'postgresql', ok: true, detail: 'connected' }] };
    } catch (error) {
      return {
        service: 'session-registry',
        checks: [
          {
            name: 'postgresql',
            ok: false,
            detail: `cannot query PostgreSQL: ${(error as Error).message}`,
            fix: 'check that PostgreSQL is running and DATABASE_URL points at it',
          },
        ],
      };
    }
  }
}
