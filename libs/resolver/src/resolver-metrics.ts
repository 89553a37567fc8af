import { HubCounter, hubCounter, type MetricsRegistry, processMetrics } from '@hub/metrics';

/** The dependency-resolver's metrics: the decisions it published. */
export class ResolverMetrics {
  private readonly decisions: HubCounter<'decision'>;

  constructor(registry: MetricsRegistry = processMetrics()) {
    this.decisions = hubCounter(registry, {
      name: 'hub_dependency_decisions_total',
      help: 'Decisions published: deps.resolved (the session may start) or deps.failed (it must not); a decision made again counts again',
      labels: { decision: ['resolved', 'failed'] },
      startAtZero: true,
    });
  }

  decided(decision: 'resolved' | 'failed'): void {
    this.decisions.inc({ decision });
  }
}
