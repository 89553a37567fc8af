import { DynamicModule, Module } from '@nestjs/common';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { ImageRefusals, LiveLogLimits, LiveLogStream, OutputStore, RunnerHeartbeats } from '@hub/messaging';
import { EgressProxy } from './egress/egress-proxy';
import { SessionEgress } from './egress/session-egress';
import { InputFetcher } from './inputs/input-fetcher';
import { LiveLogs } from './logs/live-logs';
import { CombineOrchestration } from './orchestrations/combine-orchestration.use-case';
import { ResultChanges } from './orchestrations/result-changes';
import { RemoveDeletedOutputs } from './retention/remove-deleted-outputs.use-case';
import { AttemptOutputs } from './output/attempt-outputs';
import { ImagePacing } from './pacing/image-pacing';
import { LiveRunners } from './placement/live-runners';
import { RunnerLabelsReadiness } from './placement/runner-labels-readiness';
import { SessionPlacement } from './placement/session-placement';
import { ContainerEngine } from './ports/container-engine.port';
import { CONTAINER_ENGINE, LIVE_LOG_LIMITS, RUNNER_SETTINGS, RunnerSettings } from './runner.tokens';
import { SendHeartbeats } from './heartbeat/send-heartbeats';
import { CleanUpGoneRunners } from './janitor/clean-up-gone-runners.use-case';
import { INSTALLATION_CONTAINERS, JANITOR_SETTINGS, JanitorSettings } from './janitor/janitor-settings';
import { InstallationContainers } from './ports/installation-containers.port';
import { ExitReporter } from './sessions/exit-reporter';
import { HoldCheck } from './sessions/hold-check';
import { ImagePolicy } from './sessions/image-policy';
import { ReconcileContainers } from './sessions/reconcile-containers.use-case';
import { RunSession } from './sessions/run-session.use-case';
import { RunnerHealth } from './sessions/runner-health';
import { SessionLedger } from './sessions/session-ledger';
import { SettleOnShutdown } from './sessions/settle-on-shutdown.use-case';
import { WatchContainer } from './sessions/watch-container.use-case';
import { RunnerSlots } from './slots/runner-slots';
import { RunnerMetrics } from './runner-metrics';
import { AttemptFiles } from './workspace/attempt-files';
import { BaseBundles } from './workspace/base-bundles';
import { GitWorkspaces } from './workspace/git-workspaces';

/** What a runner is given from outside: its engine, its settings and the rest of its world. */
export interface RunnerWorld {
  /** The engine, which labels what it creates with the installation's id, and lists by it for the janitor. */
  engine: ContainerEngine & InstallationContainers;
  settings: RunnerSettings;
  /** The janitor's settings: this deployment's installation id, its interval and grace. */
  janitor: JanitorSettings;
  /** The runners' heartbeats (NATS KV): this runner's is put there, the janitor reads the others'. */
  heartbeats: RunnerHeartbeats;
  /** Which runners refused a ready session for its image (NATS KV): a session goes back for another runner until every one has. */
  imageRefusals: ImageRefusals;
  logger: HubLogger;
  slots: RunnerSlots;
  /** HUB_IMAGE_PACING, and the pauses of images whose agents hit a rate limit. */
  pacing: ImagePacing;
  policy: ImagePolicy;
  outputs: OutputStore;
  liveLogs: LiveLogStream;
  liveLogLimits: LiveLogLimits;
}

const USE_CASES = [RunSession, ReconcileContainers, RunnerHealth, CombineOrchestration, RemoveDeletedOutputs];

/**
 * The container-runner's use cases and the parts they are made of. Reconciliation (ReconcileContainers),
 * the heartbeat (SendHeartbeats) and the janitor (CleanUpGoneRunners) run as the application starts
 * and then periodically, until it stops; as it stops, the attempts whose containers exited are
 * finished first (SettleOnShutdown).
 */
@Module({})
export class RunnerModule {
  static forRoot(world: RunnerWorld): DynamicModule {
    return {
      module: RunnerModule,
      providers: [
        { provide: CONTAINER_ENGINE, useValue: world.engine },
        { provide: INSTALLATION_CONTAINERS, useValue: world.engine },
        { provide: JANITOR_SETTINGS, useValue: world.janitor },
        { provide: RunnerHeartbeats, useValue: world.heartbeats },
        { provide: ImageRefusals, useValue: world.imageRefusals },
        { provide: RUNNER_SETTINGS, useValue: world.settings },
        { provide: HUB_LOGGER, useValue: world.logger },
        { provide: RunnerSlots, useValue: world.slots },
        { provide: RunnerMetrics, useFactory: () => new RunnerMetrics(world.slots) },
        { provide: ImagePacing, useValue: world.pacing },
        { provide: ImagePolicy, useValue: world.policy },
        { provide: OutputStore, useValue: world.outputs },
        { provide: LiveLogStream, useValue: world.liveLogs },
        { provide: LIVE_LOG_LIMITS, useValue: world.liveLogLimits },
        { provide: EgressProxy, useValue: new EgressProxy({ overrides: world.settings.egress.resolve, logger: world.logger.child({ component: 'egress-proxy' }) }) },
        SessionEgress,
        LiveRunners,
        SessionPlacement,
        RunnerLabelsReadiness,
        SessionLedger,
        AttemptFiles,
        BaseBundles,
        GitWorkspaces,
        ResultChanges,
        InputFetcher,
        AttemptOutputs,
        LiveLogs,
        ExitReporter,
        HoldCheck,
        WatchContainer,
        SettleOnShutdown,
        SendHeartbeats,
        CleanUpGoneRunners,
        ...USE_CASES,
      ],
      exports: [HUB_LOGGER, ...USE_CASES],
    };
  }
}
