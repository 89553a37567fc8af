import 'reflect-metadata';
import { createLogger, installProcessHandlers, loadConfig } from '@hub/config';
import { connectNats, runService } from '@hub/messaging';
import { createDockerClient, DockerContainerEngine } from '@hub/runner';
import { containerRunnerSubjects, ContainerRunnerModule, runnerWorldOf } from './container-runner.module';
import { RunnerConfigSchema } from './runner.config';

async function main() {
  const config = loadConfig(RunnerConfigSchema);
  const service = `container-runner-${config.HUB_RUNNER_ID}`;
  const logger = createLogger('container-runner', config.LOG_LEVEL).child({ runnerId: config.HUB_RUNNER_ID });
  // A stray rejection is logged and the service goes on; an uncaught exception exits 1 and the stack restarts it.
  installProcessHandlers(logger);
  const engine = new DockerContainerEngine(createDockerClient(config.DOCKER_HOST));
  await engine.ping();
  const nc = await connectNats(config.NATS_URL, service, logger, { user: config.NATS_USER, password: config.NATS_PASSWORD });
  const world = runnerWorldOf(config, engine, nc, logger);
  logger.info(
    { slots: world.slots.capacity, allowedImages: config.HUB_ALLOWED_IMAGES, secrets: world.settings.secrets.names },
    'runner configured',
  );
  await runService({
    service,
    nc,
    logger,
    metrics: { port: config.HUB_METRICS_PORT, host: config.HUB_METRICS_HOST },
    module: ContainerRunnerModule.forRoot(nc, world),
    ...containerRunnerSubjects(world.slots),
  });
}

main().catch((error) => {
  createLogger('container-runner').fatal({ err: error }, `container-runner failed to start: ${(error as Error).message}`);
  process.exit(1);
});
