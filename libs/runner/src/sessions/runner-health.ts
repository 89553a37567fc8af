import { Inject, Injectable } from '@nestjs/common';
import { HealthCheck, HealthReport } from '@hub/contracts';
import { ContainerEngine } from '../ports/container-engine.port';
import { CONTAINER_ENGINE, RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { RunnerSlots } from '../slots/runner-slots';

/** Can this runner run sessions: is Docker reachable, are the expected images there? */
@Injectable()
export class RunnerHealth {
  constructor(
    @Inject(CONTAINER_ENGINE) private readonly engine: ContainerEngine,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    private readonly slots: RunnerSlots,
  ) {}

  async report(): Promise<HealthReport> {
    const checks: HealthCheck[] = [];
    try {
      await this.engine.ping();
      checks.push({ name: 'docker', ok: true, detail: `engine reachable; ${this.slots.used}/${this.slots.capacity} slots in use` });
    } catch (error) {
      checks.push({ name: 'docker', ok: false, detail: (error as Error).message, fix: 'run `bash scripts/ensure-deps.sh`, or set DOCKER_HOST' });
      return { service: `container-runner ${this.settings.runnerId}`, checks };
    }
    for (const image of this.settings.expectedImages) {
      const present = (await this.engine.imageStatus(image).catch(() => 'missing')) === 'present';
      checks.push(
        present
          ? { name: `image ${image}`, ok: true, detail: 'present' }
          : { name: `image ${image}`, ok: false, detail: 'not present on the Docker engine', fix: image.startsWith('hub/test-agent') ? 'run `bash images/test-agent/build.sh`' : `build or load ${image} on the runner's engine` },
      );
    }
    return { service: `container-runner ${this.settings.runnerId}`, checks };
  }
}
