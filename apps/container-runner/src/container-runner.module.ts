import { DynamicModule, Module } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { HubLogger } from '@hub/config';
import { EVENTS, rpcSubjectsAnsweredBy } from '@hub/contracts';
import {
  durableName,
  ImageRefusals,
  LIVE_LOG_MAX_AGE_MS,
  LiveLogStream,
  MessagingModule,
  OutputStore,
  RunnerHeartbeats,
  ServiceDefinition,
} from '@hub/messaging';
import {
  ContainerEngine,
  InstallationContainers,
  ImageEnvironment,
  ImagePacing,
  ImagePolicy,
  NetworkPolicy,
  parseSecretGrants,
  RunnerModule,
  RunnerSecrets,
  RunnerSlots,
  RunnerWorld,
} from '@hub/runner';
import { RunnerEventsController } from './runner-events.controller';
import { defaultSlots, RunnerConfig } from './runner.config';

const MB = 1024 * 1024;

/**
 * A runner's world, from its configuration: its settings, slots, allow-list, object store, live logs,
 * heartbeats and janitor (of the installation `installationId`, the id its engine labels containers with).
 */
export function runnerWorldOf(
  config: RunnerConfig,
  engine: ContainerEngine & InstallationContainers,
  nc: NatsConnection,
  logger: HubLogger,
  installationId: string,
): RunnerWorld {
  return {
    engine,
    logger,
    heartbeats: new RunnerHeartbeats(nc),
    imageRefusals: new ImageRefusals(nc),
    janitor: {
      installationId,
      intervalMs: config.HUB_JANITOR_INTERVAL_SECONDS * 1000,
      graceMs: config.HUB_JANITOR_GRACE_SECONDS * 1000,
    },
    slots: new RunnerSlots(defaultSlots(config)),
    pacing: new ImagePacing(config.HUB_IMAGE_PACING),
    policy: new ImagePolicy(config.HUB_ALLOWED_IMAGES),
    outputs: new OutputStore(nc),
    liveLogs: new LiveLogStream(nc),
    liveLogLimits: { maxBytes: config.HUB_LIVE_LOG_MAX_MB * MB, maxAgeMs: LIVE_LOG_MAX_AGE_MS },
    settings: {
      runnerId: config.HUB_RUNNER_ID,
      labels: config.HUB_RUNNER_LABELS,
      dataDir: config.HUB_DATA_DIR,
      containerUser: config.HUB_CONTAINER_USER,
      limits: {
        memoryBytes: config.HUB_CONTAINER_MEMORY_MB * MB,
        nanoCpus: Math.round(config.HUB_CONTAINER_CPUS * 1e9),
        pids: config.HUB_CONTAINER_PIDS,
      },
      containerTmpBytes: config.HUB_CONTAINER_TMPFS_MB * MB,
      stopGraceSeconds: config.HUB_STOP_GRACE_SECONDS,
      outputLimits: { maxFiles: config.HUB_MAX_OUTPUT_FILES, maxTotalBytes: config.HUB_MAX_OUTPUT_MB * MB },
      logCapBytes: config.HUB_LOG_CAP_MB * MB,
      outputQuotaBytes: config.HUB_OUTPUT_QUOTA_MB * MB,
      gitHelperImage: config.HUB_GIT_HELPER_IMAGE,
      repositoryRewrites: config.HUB_REPOSITORY_REWRITES,
      expectedImages: [
        ...new Set([config.HUB_DEFAULT_IMAGE, config.HUB_GIT_HELPER_IMAGE, ...(config.HUB_EGRESS.allowsAny ? [config.HUB_EGRESS_BRIDGE_IMAGE] : [])]),
      ],
      secrets: RunnerSecrets.load(process.env, config.HUB_SECRETS_FILE, parseSecretGrants(config.HUB_IMAGE_SECRETS)),
      imageEnvironment: config.HUB_IMAGE_ENV,
      localRepositoryRoots: config.HUB_LOCAL_REPOSITORY_ROOTS,
      networks: new NetworkPolicy(config.HUB_IMAGE_NETWORKS),
      egress: { policy: config.HUB_EGRESS, resolve: config.HUB_EGRESS_RESOLVE, bridgeImage: config.HUB_EGRESS_BRIDGE_IMAGE },
      reconcileIntervalMs: config.HUB_RECONCILE_INTERVAL_SECONDS * 1000,
      heartbeatEveryMs: config.HUB_RUNNER_HEARTBEAT_SECONDS * 1000,
      rateLimitWait: { defaultSeconds: config.HUB_RATE_LIMIT_WAIT_SECONDS, maxSeconds: config.HUB_RATE_LIMIT_MAX_WAIT_SECONDS },
    },
  };
}

/**
 * What a runner takes work from. Each runner has its own durable consumers for cancellations (every
 * runner must see them); ready sessions are shared through the common one, so runners split the
 * work, and a runner pulls them only while it has a free slot. Finished orchestrations are shared
 * likewise: one runner combines (and publishes) each one's result; and deletions: one runner removes
 * the deleted sessions' outputs.
 */
export function containerRunnerSubjects(slots: RunnerSlots): Pick<ServiceDefinition, 'events' | 'rpc' | 'gated' | 'sharedDurables'> {
  return {
    events: [EVENTS.sessionReady, EVENTS.sessionCancelRequested, EVENTS.orchestrationFinished, EVENTS.sessionDeleted, EVENTS.orchestrationDeleted],
    rpc: rpcSubjectsAnsweredBy('container-runner'),
    gated: { [EVENTS.sessionReady]: slots },
    sharedDurables: {
      [EVENTS.sessionReady]: durableName('container-runner', EVENTS.sessionReady),
      [EVENTS.orchestrationFinished]: durableName('container-runner', EVENTS.orchestrationFinished),
      [EVENTS.sessionDeleted]: durableName('container-runner', EVENTS.sessionDeleted),
      [EVENTS.orchestrationDeleted]: durableName('container-runner', EVENTS.orchestrationDeleted),
    },
  };
}

/** The container-runner: its handlers, over the runner's use cases, on the service's NATS connection. */
@Module({ controllers: [RunnerEventsController] })
export class ContainerRunnerModule {
  static forRoot(nc: NatsConnection, world: RunnerWorld): DynamicModule {
    return { module: ContainerRunnerModule, imports: [MessagingModule.forConnection(nc), RunnerModule.forRoot(world)] };
  }
}
