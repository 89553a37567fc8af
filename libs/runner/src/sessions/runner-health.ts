import { Inject, Injectable, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { HUB_LOGGER, type HubLogger } from '@hub/config';
import { HealthCheck, HealthReport } from '@hub/contracts';
import { ImagePacing } from '../pacing/image-pacing';
import { RunnerLabelsReadiness } from '../placement/runner-labels-readiness';
import { ContainerEngine } from '../ports/container-engine.port';
import { CONTAINER_ENGINE, RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { RunnerSlots } from '../slots/runner-slots';
import { missingNetworkReason } from './image-policy';

/** How each image the runner may be missing is built. */
const BUILD_SCRIPTS: Record<string, string> = {
  'hub/test-agent': 'images/test-agent/build.sh',
  'hub/egress-bridge': 'images/egress-bridge/build.sh',
};

/**
 * Can this runner run sessions: is Docker reachable, are the expected images there, do the networks
 * HUB_IMAGE_NETWORKS names exist? And what may sessions reach through its egress proxy (HUB_EGRESS),
 * how are images paced (HUB_IMAGE_PACING), which are paused for a rate limit, and do ready sessions
 * wait for runner labels no live runner has (RunnerLabelsReadiness)?
 */
@Injectable()
export class RunnerHealth implements OnApplicationBootstrap {
  constructor(
    @Inject(CONTAINER_ENGINE) private readonly engine: ContainerEngine,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    private readonly slots: RunnerSlots,
    private readonly pacing: ImagePacing,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
    @Optional() private readonly labels?: RunnerLabelsReadiness,
  ) {}

  /** Says at start what would make sessions fail later: a network the engine does not have. */
  async onApplicationBootstrap(): Promise<void> {
    this.logger.info({ egress: this.settings.egress.policy.describe() }, 'egress policy (HUB_EGRESS)');
    this.logger.info({ pacing: this.pacing.describe() }, 'image pacing (HUB_IMAGE_PACING)');
    for (const check of await this.networkChecks().catch(() => [])) {
      if (!check.ok) this.logger.warn({ fix: check.fix }, check.detail);
    }
  }

  async report(): Promise<HealthReport> {
    const checks: HealthCheck[] = [];
    // The sessions waiting for labels no live runner has (asked of the registry meanwhile).
    const labels = this.labels?.check() ?? Promise.resolve(null);
    const withLabels = async () => {
      const check = await labels;
      return check ? [...checks, check] : checks;
    };
    try {
      await this.engine.ping();
      checks.push({ name: 'docker', ok: true, detail: `engine reachable; ${this.slots.used}/${this.slots.capacity} slots in use` });
    } catch (error) {
      checks.push({ name: 'docker', ok: false, detail: (error as Error).message, fix: 'run `bash scripts/ensure-deps.sh`, or set DOCKER_HOST' });
      return { service: `container-runner ${this.settings.runnerId}`, checks: await withLabels() };
    }
    for (const image of this.settings.expectedImages) {
      const present = (await this.engine.imageStatus(image).catch(() => 'missing')) === 'present';
      const script = BUILD_SCRIPTS[image.split(':')[0]];
      checks.push(
        present
          ? { name: `image ${image}`, ok: true, detail: 'present' }
          : { name: `image ${image}`, ok: false, detail: 'not present on the Docker engine', fix: script ? `run \`bash ${script}\`` : `build or load ${image} on the runner's engine` },
      );
    }
    checks.push(...(await this.networkChecks()));
    checks.push(this.egressCheck());
    checks.push(this.pacingCheck());
    return { service: `container-runner ${this.settings.runnerId}`, checks: await withLabels() };
  }

  /** Each network HUB_IMAGE_NETWORKS names, on this engine or not. */
  private async networkChecks(): Promise<HealthCheck[]> {
    const checks: HealthCheck[] = [];
    for (const network of this.settings.networks.networks) {
      const exists = await this.engine.networkExists(network).catch(() => false);
      checks.push(
        exists
          ? { name: `network ${network}`, ok: true, detail: 'present (HUB_IMAGE_NETWORKS)' }
          : {
              name: `network ${network}`,
              ok: false,
              detail: `HUB_IMAGE_NETWORKS names the network ${network}: ${missingNetworkReason(network)}`,
              fix:
                network === 'bridge'
                  ? 'drop bridge from HUB_IMAGE_NETWORKS and allow the destinations with HUB_EGRESS (or start dockerd with a bridge)'
                  : `create the network ${network} on the engine, or drop it from HUB_IMAGE_NETWORKS and use HUB_EGRESS`,
            },
      );
    }
    return checks;
  }

  /** The egress policy in force. */
  private egressCheck(): HealthCheck {
    const { policy, resolve } = this.settings.egress;
    const overrides = [...resolve].map(([name, target]) => `${name} → ${target.address}${target.port ? `:${target.port}` : ''}`);
    return {
      name: 'egress',
      ok: true,
      detail: `HUB_EGRESS: ${policy.describe()}${overrides.length ? `; HUB_EGRESS_RESOLVE: ${overrides.join(', ')}` : ''}`,
    };
  }

  /** The pacing rules, and the image groups paused until a rate limit resets (a pause is no fault of the runner's). */
  private pacingCheck(): HealthCheck {
    const pauses = this.pacing.activePauses().map((pause) => `${pause.group} until ${pause.until} (${pause.why})`);
    return {
      name: 'pacing',
      ok: true,
      detail: `HUB_IMAGE_PACING: ${this.pacing.describe()}; ${pauses.length ? `paused: ${pauses.join('; ')}` : 'no image paused'}`,
    };
  }
}
