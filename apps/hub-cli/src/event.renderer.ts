import { type AnyEvent, EVENT_SUBJECTS, type PublishOutcome, type Usage } from '@hub/contracts';
import { clockTime, formatDuration, plural } from './format';
import { paintOrchestrationStatus, paintStatus } from './status-style';
import type { Colors } from './terminal';

const SUBJECT_WIDTH = Math.max(...EVENT_SUBJECTS.map((subject) => subject.length));
const NAME_WIDTH = 14;

/** The session an event is about or, for an orchestration's own events, the orchestration. */
export function aboutOf(event: AnyEvent): { kind: 'session' | 'orchestration'; id: string } {
  return 'sessionId' in event.data ? { kind: 'session', id: event.data.sessionId } : { kind: 'orchestration', id: event.data.orchestrationId };
}

/**
 * An event on one line: its time (local), its subject, the name (else the id) of the session or
 * orchestration it is about, and what it says: `12:00:01  session.status-changed  impl-a  running → failed  exited with code 3`.
 */
export function eventLine(event: AnyEvent, name: string, colours: Colors): string {
  const detail = detailOf(event, colours);
  return `${colours.dim(clockTime(new Date(event.occurredAt)))}  ${event.subject.padEnd(SUBJECT_WIDTH)}  ${detail ? `${name.padEnd(NAME_WIDTH)}  ${detail}` : name}`;
}

const PUBLISHED: Record<PublishOutcome['status'], string> = { pushed: 'pushed to', failed: 'failed to push to', not_pushed: 'not pushed to' };
const run = (n: number | undefined) => (n && n > 1 ? `run ${n}` : '');

function detailOf(event: AnyEvent, colours: Colors): string {
  switch (event.subject) {
    case 'session.status-changed': {
      const { from, to, reason } = event.data;
      return `${from} → ${paintStatus(colours, to, to)}${reason ? `  ${reason}` : ''}`;
    }
    case 'session.created':
      return `${event.data.type}, ${event.data.image}${event.data.dependsOn.length ? `, after ${plural(event.data.dependsOn.length, 'session')}` : ''}`;
    case 'session.start-requested':
    case 'deps.resolved':
      return run(event.data.run);
    case 'deps.failed':
      return `dependency ${event.data.dependencyId.slice(0, 8)} ${event.data.dependencyStatus}`;
    case 'session.ready':
      return `attempt ${event.data.attempt}${event.data.notBefore ? `, not before ${clockTime(new Date(event.data.notBefore))}` : ''}`;
    case 'container.started':
      return `attempt ${event.data.attempt} on ${event.data.runnerId}`;
    case 'container.exited': {
      const { attempt, cause, exitCode, oomKilled, durationMs } = event.data;
      return `attempt ${attempt} ${cause}${exitCode === null ? '' : ` with code ${exitCode}`}${oomKilled ? ' (out of memory)' : ''} after ${formatDuration(durationMs)}`;
    }
    case 'session.cancel-requested':
      return '';
    case 'orchestration.finished':
      return `${paintOrchestrationStatus(colours, event.data.status)}${event.data.publish ? `, to publish to ${event.data.publish.branch}` : ''}`;
    case 'orchestration.result': {
      const { changes, reason, publish } = event.data.result;
      const combined = changes ? `${changes.branch}: ${plural(changes.files, 'file')} +${changes.added} −${changes.removed}` : (reason ?? 'no session changed anything');
      return `${combined}${publish ? `; ${PUBLISHED[publish.status]} ${publish.branch}` : ''}`;
    }
    case 'session.usage-recorded': {
      const { attempt, usage, orchestrationTotal } = event.data;
      return `attempt ${attempt} spent ${usageText(usage)}; orchestration ${usageText(orchestrationTotal)}`;
    }
    case 'session.rate-limited':
      return `attempt ${event.data.attempt} rate limited; runs again at ${clockTime(new Date(event.data.resetAt))}`;
    case 'session.deleted':
      return 'deleted';
    case 'orchestration.deleted':
      return `deleted${event.data.sessionIds.length ? `, with ${plural(event.data.sessionIds.length, 'session')}` : ''}`;
    case 'orchestration.budget-threshold': {
      const { cap, threshold, spent, budget } = event.data;
      const amount = (n: number) => (cap === 'usd' ? `$${n.toFixed(2)}` : `${n.toLocaleString('en-US')} tokens`);
      return `${threshold === 100 ? 'budget spent' : `${threshold} % of the budget`}: ${amount(spent)} of ${amount(budget)}`;
    }
  }
}

function usageText(usage: Usage): string {
  return `${usage.tokens.total.toLocaleString('en-US')} tokens${usage.costUsd === null ? '' : ` ($${usage.costUsd.toFixed(2)})`}`;
}
