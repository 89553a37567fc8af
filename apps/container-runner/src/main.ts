import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { createLogger, installProcessHandlers, loadConfig } from '@hub/config';
import { EVENTS, RPC } from '@hub/contracts';
import { connectNats, durableName, MessagingModule, OutputStore, runService } from '@hub/messaging';
import {
  createDockerClient,
  DockerContainerEngine,
  ImagePolicy,
  NetworkPolicy,
  parseSecretGrants,
  ReconcileContainers,
  RunnerModule,
  RunnerSecrets,
  RunnerSettings,
  RunnerSlots,
} from '@hub/runner';
import { RunnerEventsController } from './runner-events.controller';
import { defaultSlots, RunnerConfigSchema } from './runner.config';

@Module({ controllers: [RunnerEventsController] })
class ContainerRunnerAppModule {}

async function main() {
  const config = loadConfig(RunnerConfigSchema);
  const service = `container-runner-${config.HUB_RUNNER_ID}`;
  const logger = createLogger('container-runner', config.LOG_LEVEL).child({ runnerId: config.HUB_RUNNER_ID });
  // A stray rejection is logged and the service goes on; an uncaught exception exits 1 and the stack restarts it.
  installProcessHandlers(logger);
  const engine = new DockerContainerEngine(createDockerClient(config.DOCKER_HOST));
  await engine.ping();
  const slots = new RunnerSlots(defaultSlots(config));
  const settings: RunnerSettings = {
    runnerId: config.HUB_RUNNER_ID,
    dataDir: config.HUB_DATA_DIR,
    containerUser: config.HUB_CONTAINER_USER,
    limits: {
      memoryBytes: config.HUB_CONTAINER_MEMORY_MB * 1024 * 1024,
      nanoCpus: Math.round(config.HUB_CONTAINER_CPUS * 1e9),
      pids: config.HUB_CONTAINER_PIDS,
    },
    stopGraceSeconds: config.HUB_STOP_GRACE_SECONDS,
    outputLimits: { maxFiles: config.HUB_MAX_OUTPUT_FILES, maxTotalBytes: config.HUB_MAX_OUTPUT_MB * 1024 * 1024 },
    logCapBytes: config.HUB_LOG_CAP_MB * 1024 * 1024,
    outputQuotaBytes: config.HUB_OUTPUT_QUOTA_MB * 1024 * 1024,
    expectedImages: [config.HUB_DEFAULT_IMAGE],
    secrets: RunnerSecrets.load(process.env, config.HUB_SECRETS_FILE, parseSecretGrants(config.HUB_IMAGE_SECRETS)),
    localRepositoryRoots: config.HUB_LOCAL_REPOSITORY_ROOTS,
    networks: new NetworkPolicy(config.HUB_IMAGE_NETWORKS),
  };
  const nc = await connectNats(config.NATS_URL, service, logger);
  logger.info(
    { slots: slots.capacity, allowedImages: config.HUB_ALLOWED_IMAGES, secrets: settings.secrets.names },
    'runner configured',
  );
  const app = await runService({
    // Each runner has its own durable consumers for cancellations (every runner must see them);
    // ready sessions are shared through the common one, so runners split the work.
    service,
    nc,
    logger,
    module: {
      module: ContainerRunnerAppModule,
      imports: [
        MessagingModule.forConnection(nc),
        RunnerModule.forRoot({
          engine,
          settings,
          logger,
          slots,
          policy: new ImagePolicy(config.HUB_ALLOWED_IMAGES),
          outputs: new OutputStore(nc),
        }),
      ],
    },
    events: [EVENTS.sessionReady, EVENTS.sessionCancelRequested],
    rpc: [RPC.runnerHealth],
    gated: { [EVENTS.sessionReady]: slots },
    sharedDurables: { [EVENTS.sessionReady]: durableName('container-runner', EVENTS.sessionReady) },
  });
  app.get(ReconcileContainers).start(config.HUB_RECONCILE_INTERVAL_SECONDS * 1000);
}

main().catch((error) => {
  createLogger('container-runner').fatal({ err: error }, `container-runner failed to start: ${(error as Error).message}`);
  process.exit(1);
});
