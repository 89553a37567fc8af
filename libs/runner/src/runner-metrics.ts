import { ContainerExitCauseSchema, type ContainerExitCause } from '@hub/contracts';
import { HubCounter, hubCounter, hubGauge, type MetricsRegistry, processMetrics } from '@hub/metrics';
import { RunnerSlots } from './slots/runner-slots';

type ContainerStage = 'create' | 'start';
/** What the janitor removes: containers left by runners that are gone, and session directories nobody has any more. */
export type JanitorRemovalKind = 'container' | 'directory';

/**
 * The container-runner's metrics: its slots (read when scraped), the containers it started, how each
 * attempt ended, and what its janitor removed.
 */
export class RunnerMetrics {
  private readonly errors: HubCounter<'stage'>;
  private readonly started: HubCounter<never>;
  private readonly exited: HubCounter<'cause'>;
  private readonly janitorRemovals: HubCounter<'kind'>;

  constructor(slots: RunnerSlots, registry: MetricsRegistry = processMetrics()) {
    hubGauge(registry, { name: 'hub_runner_slots', help: "This runner's container slots: in use, and in all", labels: { state: ['used', 'capacity'] } }, (gauge) => {
      gauge.set({ state: 'used' }, slots.used);
      gauge.set({ state: 'capacity' }, slots.capacity);
    });
    this.errors = hubCounter(registry, {
      name: 'hub_container_errors_total',
      help: 'Containers the Docker engine failed to create or start, by stage',
      labels: { stage: ['create', 'start'] },
      startAtZero: true,
    });
    this.started = hubCounter(registry, { name: 'hub_containers_started_total', help: 'Session containers this runner started', labels: {} });
    this.exited = hubCounter(registry, {
      name: 'hub_containers_exited_total',
      help: 'Attempts this runner ended (each container.exited it reported), by cause',
      labels: { cause: ContainerExitCauseSchema.options },
      startAtZero: true,
    });
    this.janitorRemovals = hubCounter(registry, {
      name: 'hub_janitor_removed_total',
      help: "What this runner's janitor removed of what runners that are gone left: containers, session directories",
      labels: { kind: ['container', 'directory'] satisfies JanitorRemovalKind[] },
      startAtZero: true,
    });
  }

  /** For an engine call's catch: counts the failure at `stage`, and fails as the call did. */
  failedAt(stage: ContainerStage): (error: unknown) => never {
    return (error) => {
      this.errors.inc({ stage });
      throw error;
    };
  }

  containerStarted(): void {
    this.started.inc();
  }

  attemptEnded(cause: ContainerExitCause): void {
    this.exited.inc({ cause });
  }

  janitorRemoved(kind: JanitorRemovalKind): void {
    this.janitorRemovals.inc({ kind });
  }
}
