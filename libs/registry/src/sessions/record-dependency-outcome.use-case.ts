import { Injectable } from '@nestjs/common';
import { EventOf } from '@hub/contracts';
import { SessionStore } from '../store/session-store';
import { SessionTransitions } from './session-transitions';

/** Applies the resolver's decisions: waiting → ready, or → skipped naming the dependency. */
@Injectable()
export class RecordDependencyOutcome {
  constructor(
    private readonly store: SessionStore,
    private readonly transitions: SessionTransitions,
  ) {}

  async resolved(event: EventOf<'deps.resolved'>): Promise<void> {
    await this.transitions.move({
      sessionId: event.data.sessionId,
      from: ['waiting'],
      to: 'ready',
      reason: 'dependencies completed',
      changes: { readyAt: new Date(), dispatchedAt: null },
    });
  }

  async failed(event: EventOf<'deps.failed'>): Promise<void> {
    const { sessionId, dependencyId, dependencyStatus } = event.data;
    const dependency = await this.store.getSession(dependencyId);
    const label = dependency?.name ? `${dependency.name} (${dependencyId})` : dependencyId;
    await this.transitions.move({
      sessionId,
      from: ['created', 'waiting'],
      to: 'skipped',
      reason: `dependency ${label} ended ${dependencyStatus}`,
      changes: { finishedAt: new Date() },
    });
  }
}
