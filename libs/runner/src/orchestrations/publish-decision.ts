import type { OrchestrationStatus, SessionCounts } from '@hub/contracts';

/** How an orchestration ended: its status (orchestration.finished) and its sessions' (its view). */
export interface OrchestrationEnd {
  status: OrchestrationStatus;
  counts: SessionCounts;
}

/** What combining the final sessions' changes came to. */
export interface CombineOutcome {
  changes: { repository: string | null } | null;
  /** Why they could not be combined; null when they were, or when nothing changed. */
  reason: string | null;
}

/**
 * Why an orchestration's result is not pushed (`not_pushed`), or null when it is to be: only the
 * combined changes of an orchestration whose every session completed are published, and only to
 * a repository.
 */
export function whyNotPublished(end: OrchestrationEnd, combined: CombineOutcome): string | null {
  if (end.status !== 'completed') return notCompleted(end);
  if (combined.reason) return `its changes could not be combined: ${combined.reason}`.slice(0, 2000);
  if (!combined.changes) return 'nothing changed';
  if (!combined.changes.repository) return 'its sessions worked in no repository';
  return null;
}

/** "2 sessions did not complete (1 failed, 1 skipped)". */
function notCompleted({ status, counts }: OrchestrationEnd): string {
  const others = Object.entries(counts).filter(([name, count]) => name !== 'completed' && count > 0);
  const total = others.reduce((sum, [, count]) => sum + count, 0);
  if (!total) return `the orchestration ended ${status}`;
  const each = others.map(([name, count]) => `${count} ${name.replace(/_/g, ' ')}`).join(', ');
  return `${total} session${total === 1 ? '' : 's'} did not complete (${each})`;
}
