import { Inject, Injectable } from '@nestjs/common';
import { EventOf, isTerminal, RPC, SessionStatus } from '@hub/contracts';
import { EventPublisher, RpcClient } from '@hub/messaging';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { decide } from './dependency-decision';
import { ResolverMetrics } from './resolver-metrics';

/**
 * Decides when a session may start (`deps.resolved`) or must not (`deps.failed`): when it is asked
 * to start, and again each time one of its dependencies ends. Decisions carry a deterministic
 * event id per run of the session, so deciding twice publishes once, and a re-run is decided anew.
 */
@Injectable()
export class ResolveDependencies {
  constructor(
    private readonly rpc: RpcClient,
    private readonly publisher: EventPublisher,
    private readonly metrics: ResolverMetrics,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  async onStartRequested(event: EventOf<'session.start-requested'>): Promise<void> {
    const { sessionId, dependsOn, run = 1 } = event.data;
    const { statuses } = dependsOn.length
      ? await this.rpc.call(RPC.dependencyStatuses, { sessionIds: dependsOn })
      : { statuses: [] };
    await this.apply(sessionId, run, statuses);
  }

  async onStatusChanged(event: EventOf<'session.status-changed'>): Promise<void> {
    if (!isTerminal(event.data.to)) return;
    const { dependents } = await this.rpc.call(RPC.sessionDependents, { sessionId: event.data.sessionId });
    // A dependent nobody asked to start yet only learns of a failure; success waits for its start.
    const toDecide = dependents.filter((d) => d.status !== 'created' || decide(d.dependencies).kind === 'failed');
    // Decisions are independent of each other: published together, not one acknowledgement after another.
    await Promise.all(toDecide.map((d) => this.apply(d.sessionId, d.run, d.dependencies)));
  }

  /**
   * Re-decides every waiting session (the oldest first), in case an event was missed: run at start
   * and periodically (RecheckWaitingSessions), so no session waits on a decision that was never made.
   */
  async recheckWaiting(limit = 1_000): Promise<number> {
    const { sessions } = await this.rpc.call(RPC.waitingSessions, { limit });
    for (const session of sessions) await this.apply(session.sessionId, session.run, session.dependencies);
    return sessions.length;
  }

  private async apply(sessionId: string, run: number, dependencies: { sessionId: string; status: SessionStatus }[]) {
    const decision = decide(dependencies);
    if (decision.kind === 'resolved') {
      await this.publisher.publish('deps.resolved', { sessionId, run }, `deps.resolved:${sessionId}:${run}`);
      this.metrics.decided('resolved');
      this.logger.info({ sessionId, run, dependencies: dependencies.length }, 'dependencies resolved');
    } else if (decision.kind === 'failed') {
      const { dependencyId, dependencyStatus } = decision;
      await this.publisher.publish('deps.failed', { sessionId, dependencyId, dependencyStatus, run }, `deps.failed:${sessionId}:${run}`);
      this.metrics.decided('failed');
      this.logger.info({ sessionId, run, dependencyId, dependencyStatus }, 'dependency failed: session must not start');
    }
  }
}
