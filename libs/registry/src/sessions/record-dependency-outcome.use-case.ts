import { Injectable } from '@nestjs/common';
import { EventOf, SessionStatus } from '@hub/contracts';
import { SessionRecord } from '../store/session-record';
import { SessionStore } from '../store/session-store';
import { SessionTransitions } from './session-transitions';

/**
 * Applies the resolver's decisions: waiting → ready, or → skipped naming the session that caused it.
 * Only a decision about the session's current run counts (one about a run before a re-run changes nothing).
 */
@Injectable()
export class RecordDependencyOutcome {
  constructor(
    private readonly store: SessionStore,
    private readonly transitions: SessionTransitions,
  ) {}

  async resolved(event: EventOf<'deps.resolved'>): Promise<void> {
    await this.transitions.move({
      sessionId: event.data.sessionId,
      run: event.data.run ?? 1,
      from: ['waiting'],
      to: 'ready',
      reason: 'dependencies completed',
      changes: { readyAt: new Date(), dispatchedAt: null },
    });
  }

  async failed(event: EventOf<'deps.failed'>): Promise<void> {
    const { sessionId, dependencyId, dependencyStatus, run = 1 } = event.data;
    const dependency = await this.store.getSession(dependencyId);
    await this.transitions.move({
      sessionId,
      run,
      from: ['created', 'waiting'],
      to: 'skipped',
      reason: skipReason(dependency, dependencyId, dependencyStatus),
      changes: { finishedAt: new Date() },
    });
  }
}

const MAX_REASON_CHARS = 1000;
const HOPS_KEPT = 5;

/**
 * Why a session is skipped, naming the session that actually failed and how, then the chain down
 * to this one: "A (id) failed (exited with code 1) ← B (id)". A skipped dependency passes its own
 * reason on, so a skip deep in the DAG still names its root cause.
 */
export function skipReason(dependency: SessionRecord | null, dependencyId: string, dependencyStatus: SessionStatus): string {
  const label = dependency?.name ? `${dependency.name} (${dependencyId})` : dependencyId;
  if (dependencyStatus === 'skipped' && dependency?.statusReason) return shortened(`${dependency.statusReason} ← ${label}`);
  return `${label} ${dependencyStatus}${howItEnded(dependency)}`;
}

function howItEnded(dependency: SessionRecord | null): string {
  if (!dependency) return '';
  if (dependency.exitCode !== null) return ` (exited with code ${dependency.exitCode})`;
  return dependency.statusReason ? ` (${dependency.statusReason.slice(0, 200)})` : '';
}

/** A long chain keeps its root cause and its last hops. */
function shortened(chain: string): string {
  if (chain.length <= MAX_REASON_CHARS) return chain;
  const hops = chain.split(' ← ');
  return [hops[0], '…', ...hops.slice(-HOPS_KEPT)].join(' ← ').slice(0, MAX_REASON_CHARS);
}
