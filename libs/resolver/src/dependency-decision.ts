import { SessionStatus } from '@hub/contracts';

export type DependencyDecision =
  | { kind: 'resolved' }
  | { kind: 'failed'; dependencyId: string; dependencyStatus: SessionStatus }
  | { kind: 'wait' };

/**
 * May a session start, given the status of each of its dependencies? Yes when all completed;
 * never when one ended any other way; otherwise not yet.
 */
export function decide(dependencies: readonly { sessionId: string; status: SessionStatus }[]): DependencyDecision {
  const blocker = dependencies.find((d) => ['failed', 'cancelled', 'timed_out', 'skipped'].includes(d.status));
  if (blocker) return { kind: 'failed', dependencyId: blocker.sessionId, dependencyStatus: blocker.status };
  if (dependencies.every((d) => d.status === 'completed')) return { kind: 'resolved' };
  return { kind: 'wait' };
}
