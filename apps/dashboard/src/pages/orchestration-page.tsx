import { useEffect, useMemo, useState } from 'react';
import type { AnyEvent, OrchestrationView, SessionView } from '@hub/contracts';
import type { StatusChange } from '../model/apply-status-change';
import { useHub } from '../auth/auth';
import { ActionButton } from '../components/action-button';
import { DagView } from '../components/dag-view';
import { LiveIndicator } from '../components/live-indicator';
import { Page } from '../components/page';
import { Problem } from '../components/problem';
import { SessionTable } from '../components/session-table';
import { StatusBadge } from '../components/status-badge';
import { StatusCounts } from '../components/status-counts';
import { DiffView } from '../components/text-view';
import { useLiveEvents } from '../live/use-live-events';
import { useResource } from '../live/use-resource';
import { useNow, useThrottled } from '../live/timing';
import { applyStatusChange } from '../model/apply-status-change';
import { formatTime, sessionLabel, shortId } from '../model/format';
import { isEnded, isNotCompleted } from '../model/statuses';
import { href } from '../routing/routes';
import { Link } from '../routing/router';
import { searchOf } from '../routing/session-filters';

/** At most this much of the combined diff is shown (the API serves it whole). */
const DIFF_SHOWN_CHARS = 512 * 1024;
const RELOAD_SOON_MS = 1_000;
const RELOAD_LATER_MS = 3_000;

/**
 * An orchestration: its DAG drawn and coloured by status, live (its events from its creation: a
 * status change shows at once, counts and timings come with a throttled reload); counts per status;
 * cancel and retry; what its sessions changed, and the combined diff once it is recorded.
 */
export function OrchestrationPage({ id }: { id: string }) {
  const client = useHub();
  const view = useResource(id, () => client.getOrchestration(id));
  const [orchestration, setOrchestration] = useState<OrchestrationView>();
  useEffect(() => setOrchestration(view.data), [view.data]);

  // A status change shows at once (the session and the counts); what only a read tells (the root causes,
  // a new session, those past the first page) comes with a read a little later; the end and the result sooner.
  const reloadSoon = useThrottled(view.reload, RELOAD_SOON_MS);
  const reloadLater = useThrottled(view.reload, RELOAD_LATER_MS);
  const known = useMemo(() => new Set(orchestration?.sessions.map((session) => session.id)), [orchestration?.sessions]);
  const live = useLiveEvents({ orchestrationId: id, type: ['session.status-changed', 'session.created', 'orchestration.finished', 'orchestration.result'] }, (event: AnyEvent) => {
    if (event.subject === 'session.status-changed') {
      setOrchestration((current) => current && withStatusChange(current, event.data));
      reloadLater();
    } else if (event.subject === 'session.created') {
      // A session not shown yet: a new one (a continuation), or one past the first page (its counts).
      if (!known.has(event.data.sessionId)) reloadLater();
    } else {
      reloadSoon();
    }
  });
  const sessions = orchestration?.sessions ?? [];
  const now = useNow(sessions.some((session) => session.startedAt && !isEnded(session.status)));

  if (!orchestration) {
    return (
      <Page title={`Orchestration ${shortId(id)}`}>
        {view.error ? <Problem error={view.error} what="The orchestration could not be read" /> : <p className="summary">Loading…</p>}
      </Page>
    );
  }
  const ended = orchestration.status === 'completed' || orchestration.status === 'failed' || orchestration.status === 'cancelled';
  const retryable = ended && sessions.some((session) => isNotCompleted(session.status));
  const partial = sessions.length < orchestration.sessionCount;
  const changed = sessions.filter((session) => session.changes);

  return (
    <Page
      title={orchestration.name}
      subtitle={
        <>
          <StatusBadge status={orchestration.status} /> <span className="muted">orchestration {orchestration.id}, created {formatTime(orchestration.createdAt)}</span>
        </>
      }
      actions={
        <>
          <LiveIndicator live={live} />
          <ActionButton
            label="Cancel"
            confirm="Cancel every session still on its way?"
            danger
            disabled={ended}
            run={async () => {
              await client.cancelOrchestration(id);
              view.reload();
            }}
            done="Cancel requested."
          />
          <ActionButton
            label="Retry"
            disabled={!retryable}
            run={async () => {
              await client.retryOrchestration(id);
              view.reload();
            }}
            done="Retry requested: the sessions that did not complete run again."
          />
        </>
      }
    >
      {view.error && <Problem error={view.error} what="Reading it again failed" />}
      <section aria-labelledby="counts-heading">
        <h2 id="counts-heading">
          {orchestration.sessionCount} session{orchestration.sessionCount === 1 ? '' : 's'}
        </h2>
        <StatusCounts counts={orchestration.counts} label="Sessions by status" />
        {orchestration.causes && orchestration.causes.length > 0 && (
          <ul className="causes" aria-label="Why sessions were skipped">
            {orchestration.causes.map((cause) => (
              <li key={cause.sessionId}>
                <Link href={href.session(cause.sessionId)}>{cause.name ?? shortId(cause.sessionId)}</Link> <StatusBadge status={cause.status} />
                {cause.reason ? ` ${cause.reason}` : ''}
                {cause.skipped ? `, ${cause.skipped} skipped after it` : ''}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="graph-heading">
        <h2 id="graph-heading">Graph</h2>
        {partial && (
          <p className="notice">
            The first {sessions.length} of {orchestration.sessionCount} sessions are drawn;{' '}
            <Link href={href.sessions(searchOf({ orchestrationId: id, limit: 100 }))}>list them all</Link>.
          </p>
        )}
        <p className="hint" id="graph-hint">
          Each session is coloured by its status and links to its page; hover or focus one for its duration and the reason it ended. The table below lists the
          same.
        </p>
        <DagView sessions={sessions} now={now} label={`The sessions of ${orchestration.name} and their dependencies`} />
      </section>
      <section aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Sessions</h2>
        <SessionTable sessions={sessions} now={now} caption={`Sessions of ${orchestration.name}, in the order declared`} columns={['session', 'status', 'type', 'started', 'duration', 'reason']} />
      </section>
      <section aria-labelledby="changes-heading">
        <h2 id="changes-heading">Changes</h2>
        {changed.length === 0 && !orchestration.result?.changes ? (
          <p className="muted">{ended ? 'No session changed anything.' : 'No session has changed anything yet.'}</p>
        ) : (
          <ul className="changes">
            {changed.map((session) => (
              <li key={session.id}>
                <Link href={href.session(session.id)}>{sessionLabel(session)}</Link>: {session.changes!.files} file{session.changes!.files === 1 ? '' : 's'},{' '}
                <span className="diff-add">+{session.changes!.added}</span> <span className="diff-del">−{session.changes!.removed}</span>
              </li>
            ))}
          </ul>
        )}
        {orchestration.result?.reason && <p className="muted">{orchestration.result.reason}</p>}
        {orchestration.result?.changes && <CombinedDiff id={id} branch={orchestration.result.changes.branch} at={orchestration.result.at} />}
      </section>
    </Page>
  );
}

/** The orchestration with a session's move applied, its counts too; the same object when the move is not the session's next (a replayed event). */
function withStatusChange(orchestration: OrchestrationView, change: StatusChange): OrchestrationView {
  const sessions = applyStatusChange(orchestration.sessions, change) as SessionView[];
  if (sessions === orchestration.sessions) return orchestration;
  const counts = { ...orchestration.counts, [change.from]: Math.max(0, orchestration.counts[change.from] - 1), [change.to]: orchestration.counts[change.to] + 1 };
  return { ...orchestration, sessions, counts };
}

/** The orchestration's combined change (its final sessions' merged), as a diff. */
function CombinedDiff({ id, branch, at }: { id: string; branch: string; at: string }) {
  const client = useHub();
  const diff = useResource(`${id}@${at}`, () => client.orchestrationChanges(id, DIFF_SHOWN_CHARS));
  return (
    <>
      <h3>
        Combined result on <code>{branch}</code>
      </h3>
      {diff.error && <Problem error={diff.error} what="The diff could not be read" />}
      {diff.data && <DiffView text={diff.data.text} truncated={diff.data.truncated} label={`The combined diff, branch ${branch}`} />}
    </>
  );
}
