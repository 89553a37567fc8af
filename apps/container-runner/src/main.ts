import 'reflect-metadata';
import { createLogger, installProcessHandlers, loadConfig } from '@hub/config';
import { connectNats, installationIdOf, runService } from '@hub/messaging';
import { createDockerClient, DockerContainerEngine } from '@hub/runner';
import { startTracing } from '@hub/tracing';
import { containerRunnerSubjects, ContainerRunnerModule, runnerWorldOf } from './container-runner.module';
import { RunnerConfigSchema } from './runner.config';

async function main() {
  const config = loadConfig(RunnerConfigSchema);
  const service = `container-runner-${config.HUB_RUNNER_ID}`;
  const logger = createLogger('container-runner', config.LOG_LEVEL).child({ runnerId: config.HUB_RUNNER_ID });
  // A stray rejection is logged and the service goes on; an uncaught exception exits 1 and the stack restarts it.
  installProcessHandlers(logger);
  startTracing('container-runner', { logger, instanceId: config.HUB_RUNNER_ID });
  const docker = createDockerClient(config.DOCKER_HOST, { tlsVerify: config.DOCKER_TLS_VERIFY, certPath: config.DOCKER_CERT_PATH });
  await new DockerContainerEngine(docker).ping();
  const nc = await connectNats(config.NATS_URL, service, logger, { user: config.NATS_USER, password: config.NATS_PASSWORD });
  // Every container it creates is labelled with the deployment's id, which its janitor looks for.
  const installationId = await installationIdOf(nc);
  const engine = new DockerContainerEngine(docker, { installationId });
  const world = runnerWorldOf(config, engine, nc, logger, installationId);
  logger.info(
    { slots: world.slots.capacity, labels: world.settings.labels, allowedImages: config.HUB_ALLOWED_IMAGES, secrets: world.settings.secrets.names, installationId },
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
