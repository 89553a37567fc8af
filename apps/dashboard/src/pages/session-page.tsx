import { useEffect, useState } from 'react';
import type { AnyEvent, SessionView } from '@hub/contracts';
import { useHub } from '../auth/auth';
import { ActionButton } from '../components/action-button';
import { LiveIndicator } from '../components/live-indicator';
import { Page } from '../components/page';
import { Problem } from '../components/problem';
import { StatusBadge } from '../components/status-badge';
import { DiffView } from '../components/text-view';
import { useLiveEvents } from '../live/use-live-events';
import { useResource } from '../live/use-resource';
import { useNow, useThrottled } from '../live/timing';
import { afterStatusChange } from '../model/apply-status-change';
import { formatDuration, formatTime, sessionDurationMs, sessionLabel, shortId } from '../model/format';
import { isEnded, statusLabel } from '../model/statuses';
import { href } from '../routing/routes';
import { Link } from '../routing/router';
import { OutputFiles } from './output-files';
import { SessionLog } from './session-log';

const DIFF_SHOWN_CHARS = 512 * 1024;
/** Dependencies named with their status: at most this many are read. */
const DEPENDENCIES_READ = 50;

/**
 * A session: why it is where it is, its attempts and timings, its dependencies (links), its log
 * (followed live while it runs; every attempt's), its output files and changes; cancel and re-run.
 */
export function SessionPage({ id }: { id: string }) {
  const client = useHub();
  const view = useResource(id, () => client.getSession(id));
  const [session, setSession] = useState<SessionView>();
  useEffect(() => setSession(view.data), [view.data]);
  const reload = useThrottled(view.reload, 500);
  const live = useLiveEvents({ sessionId: id, type: ['session.status-changed', 'container.started', 'container.exited'] }, (event: AnyEvent) => {
    if (event.subject === 'session.status-changed') setSession((current) => (current && afterStatusChange(current, event.data)) ?? current);
    reload();
  });
  const now = useNow(!!session?.startedAt && !isEnded(session.status));

  if (!session) {
    return (
      <Page title={`Session ${shortId(id)}`}>
        {view.error ? <Problem error={view.error} what="The session could not be read" /> : <p className="summary">Loading…</p>}
      </Page>
    );
  }
  const ended = isEnded(session.status);
  const duration = sessionDurationMs(session, now);

  return (
    <Page
      title={sessionLabel(session)}
      subtitle={
        <>
          <StatusBadge status={session.status} /> <span className="muted">session {session.id}</span>
        </>
      }
      actions={
        <>
          <LiveIndicator live={live} />
          <ActionButton
            label="Cancel"
            confirm="Cancel this session?"
            danger
            disabled={ended}
            run={async () => setSession(await client.cancelSession(id))}
            done="Cancel requested."
          />
          <ActionButton
            label="Re-run"
            confirm="Run it again (with its dependents that did not complete)?"
            disabled={!ended}
            run={async () => setSession(await client.rerunSession(id))}
            done="It runs again."
          />
        </>
      }
    >
      {view.error && <Problem error={view.error} what="Reading it again failed" />}
      <section aria-labelledby="summary-heading">
        <h2 id="summary-heading" className="visually-hidden">
          Summary
        </h2>
        <p className="reason-line" data-testid="status-reason">
          <strong>{statusLabel(session.status)}</strong>
          {session.statusReason ? `: ${session.statusReason}` : ''}
          {session.exitCode !== null && !session.statusReason?.includes(`code ${session.exitCode}`) ? ` (exit code ${session.exitCode})` : ''}
        </p>
        <dl className="details">
          <dt>Orchestration</dt>
          <dd>
            <Link href={href.orchestration(session.orchestrationId)}>{shortId(session.orchestrationId)}</Link>
          </dd>
          <dt>Type</dt>
          <dd>{session.type}</dd>
          <dt>Image</dt>
          <dd>
            <code>{session.image}</code>
          </dd>
          <dt>Created</dt>
          <dd>{formatTime(session.createdAt)}</dd>
          <dt>Started</dt>
          <dd>{formatTime(session.startedAt)}</dd>
          <dt>Finished</dt>
          <dd>{formatTime(session.finishedAt)}</dd>
          <dt>Duration</dt>
          <dd>{duration === undefined ? '—' : formatDuration(duration)}</dd>
          <dt>Time limit</dt>
          <dd>{formatDuration(session.timeoutSeconds * 1000)}</dd>
          <dt>Attempt</dt>
          <dd>
            {session.attempt} ({session.retries} retr{session.retries === 1 ? 'y' : 'ies'} allowed)
          </dd>
          <dt>Depends on</dt>
          <dd>{session.dependsOn.length ? <Dependencies ids={session.dependsOn} /> : 'nothing'}</dd>
          {session.continues && (
            <>
              <dt>Continues</dt>
              <dd>
                <Link href={href.session(session.continues)}>{shortId(session.continues)}</Link>
              </dd>
            </>
          )}
          {session.continuedBy.length > 0 && (
            <>
              <dt>Continued by</dt>
              <dd>
                <ul className="inline-list">
                  {session.continuedBy.map((next) => (
                    <li key={next}>
                      <Link href={href.session(next)}>{shortId(next)}</Link>
                    </li>
                  ))}
                </ul>
              </dd>
            </>
          )}
        </dl>
      </section>
      {session.attempts.length > 0 && (
        <section aria-labelledby="attempts-heading">
          <h2 id="attempts-heading">Attempts</h2>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Attempts that ended</caption>
              <thead>
                <tr>
                  <th scope="col">Attempt</th>
                  <th scope="col">Status</th>
                  <th scope="col">Exit code</th>
                  <th scope="col">Finished</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {session.attempts.map((attempt) => (
                  <tr key={attempt.attempt}>
                    <td>{attempt.attempt}</td>
                    <td>
                      <StatusBadge status={attempt.status} />
                    </td>
                    <td>{attempt.exitCode ?? '—'}</td>
                    <td>{formatTime(attempt.finishedAt)}</td>
                    <td>{attempt.reason ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      <SessionLog session={session} onAttemptEnded={view.reload} />
      <OutputFiles session={session} />
      {session.changes && <SessionChanges session={session} />}
    </Page>
  );
}

/** The sessions it depends on, each a link with its name and status (the first DEPENDENCIES_READ read). */
function Dependencies({ ids }: { ids: readonly string[] }) {
  const client = useHub();
  const read = ids.slice(0, DEPENDENCIES_READ);
  const views = useResource(read.join(','), () => Promise.all(read.map((id) => client.getSession(id).catch(() => undefined))));
  return (
    <ul className="inline-list">
      {ids.map((id, index) => {
        const dependency = views.data?.[index];
        return (
          <li key={id}>
            <Link href={href.session(id)}>{dependency ? sessionLabel(dependency) : shortId(id)}</Link>
            {dependency && (
              <>
                {' '}
                <StatusBadge status={dependency.status} />
              </>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function SessionChanges({ session }: { session: SessionView }) {
  const client = useHub();
  const changes = session.changes!;
  const diff = useResource(`${session.id}:${changes.headCommit}`, () => client.sessionChanges(session.id, DIFF_SHOWN_CHARS));
  return (
    <section aria-labelledby="changes-heading">
      <h2 id="changes-heading">Changes</h2>
      <p>
        On <code>{changes.branch}</code>: {changes.files} file{changes.files === 1 ? '' : 's'}, <span className="diff-add">+{changes.added}</span>{' '}
        <span className="diff-del">−{changes.removed}</span>
      </p>
      {diff.error && <Problem error={diff.error} what="The diff could not be read" />}
      {diff.data && <DiffView text={diff.data.text} truncated={diff.data.truncated} label={`What ${sessionLabel(session)} changed`} />}
    </section>
  );
}
