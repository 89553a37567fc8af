import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger, PeriodicTask } from '@hub/config';
import { RunnerHeartbeats } from '@hub/messaging';
import { SendHeartbeats } from '../heartbeat/send-heartbeats';
import { ContainerEngine } from '../ports/container-engine.port';
import { InstallationContainers } from '../ports/installation-containers.port';
import { CONTAINER_ENGINE, RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { RunnerMetrics } from '../runner-metrics';
import { SessionLedger } from '../sessions/session-ledger';
import { AttemptFiles } from '../workspace/attempt-files';
import { decideCleanup, JanitorContainer, JanitorDecision } from './janitor-decision';
import { INSTALLATION_CONTAINERS, JANITOR_SETTINGS, JanitorSettings } from './janitor-settings';

/**
 * The janitor: removes the containers (sessions' and helpers') and the session directories that
 * runners which are gone left behind. It looks only at containers labelled with its own installation
 * and made by another runner (its own it adopts: ReconcileContainers), and only at runners without a
 * heartbeat (RunnerHeartbeats); what it removes is decided by decideCleanup, once the grace has
 * passed. It passes as the runner starts and every `intervalMs`; every removal is logged with why,
 * and counted (hub_janitor_removed_total).
 */
@Injectable()
export class CleanUpGoneRunners extends PeriodicTask {
  private running: Promise<JanitorDecision | null> | null = null;
  /** When this janitor first saw each runner it found containers of without a heartbeat. */
  private readonly absentSince = new Map<string, Date>();
  private readonly logger: HubLogger;

  constructor(
    private readonly heartbeats: RunnerHeartbeats,
    private readonly heartbeat: SendHeartbeats,
    private readonly ledger: SessionLedger,
    private readonly files: AttemptFiles,
    private readonly metrics: RunnerMetrics,
    @Inject(INSTALLATION_CONTAINERS) private readonly inventory: InstallationContainers,
    @Inject(CONTAINER_ENGINE) private readonly engine: ContainerEngine,
    @Inject(JANITOR_SETTINGS) private readonly janitor: JanitorSettings,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    @Inject(HUB_LOGGER) logger: HubLogger,
  ) {
    super({ everyMs: janitor.intervalMs, atStart: true });
    this.logger = logger.child({ component: 'janitor', installationId: janitor.installationId });
  }

  override onApplicationBootstrap(): void {
    if (this.janitor.intervalMs > 0) super.onApplicationBootstrap();
    else this.logger.info('janitor off (HUB_JANITOR_INTERVAL_SECONDS=0)');
  }

  /** One pass; concurrent calls share it. What it removed, or null when it could not look (logged, left to the next pass). */
  runOnce(): Promise<JanitorDecision | null> {
    this.running ??= this.pass()
      .catch((error) => {
        this.logger.warn({ err: (error as Error).message }, 'janitor pass failed; will retry');
        return null;
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<JanitorDecision | null> {
    const { runnerId } = this.settings;
    // Its own entry put first and read back: a bucket it cannot write, or that does not show its own
    // entry, says nothing about the others, and an absent entry must never be taken for a gone runner.
    if (!(await this.heartbeat.runOnce())) return null;
    const present = await this.heartbeats.present();
    if (!present.has(runnerId)) {
      this.logger.warn('janitor pass skipped: its own heartbeat is not in the bucket');
      return null;
    }
    for (const [id, presence] of present) {
      if (!presence.ok) this.logger.warn({ runnerId: id, problem: presence.problem }, 'a runner heartbeat does not read; counting that runner as present');
    }

    const now = new Date();
    const listed = await this.inventory.listInstallationContainers(this.janitor.installationId);
    const absent = (container: JanitorContainer) => !!container.runnerId && container.runnerId !== runnerId && !present.has(container.runnerId);
    this.noteAbsentRunners(listed.filter(absent), now);
    const containers: JanitorContainer[] = [];
    for (const container of listed) {
      if (!absent(container) || container.state === 'removing') {
        containers.push(container);
        continue;
      }
      const times = await this.inventory.containerTimes(container.containerId);
      if (times) containers.push({ ...container, times });
    }

    const decision = decideCleanup({
      now,
      runnerId,
      graceMs: this.janitor.graceMs,
      presentRunners: new Set(present.keys()),
      absentSince: this.absentSince,
      containers,
      sessionsWithContainers: (await this.engine.listSessionContainers()).map(({ sessionId, containerId }) => ({ sessionId, containerId })),
      directories: await this.files.sessionDirectories(),
      holds: (sessionId) => this.ledger.holds(sessionId),
    });

    for (const { container, why } of decision.containers) {
      const { containerId, sessionId, runnerId: ofRunner, helper } = container;
      this.logger.warn({ containerId, sessionId, runnerId: ofRunner, helper, state: container.state, why }, 'janitor: removing a container a gone runner left');
      try {
        await this.inventory.remove(containerId);
        this.metrics.janitorRemoved('container');
      } catch (error) {
        this.logger.warn({ containerId, err: (error as Error).message }, 'janitor: could not remove the container; next pass');
      }
    }
    for (const { sessionId, why } of decision.directories) {
      this.logger.warn({ sessionId, why }, 'janitor: removing a session directory nobody has');
      if (await this.files.discard(sessionId, this.logger)) this.metrics.janitorRemoved('directory');
    }
    return decision;
  }

  /** Remembers when each runner was first seen absent; forgets runners that are back or have left nothing. */
  private noteAbsentRunners(ofAbsentRunners: JanitorContainer[], now: Date): void {
    const absentIds = new Set(ofAbsentRunners.map((c) => c.runnerId!));
    for (const id of this.absentSince.keys()) if (!absentIds.has(id)) this.absentSince.delete(id);
    for (const id of absentIds) if (!this.absentSince.has(id)) this.absentSince.set(id, now);
  }
}
