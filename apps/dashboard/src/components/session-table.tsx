import { memo } from 'react';
import type { SessionView } from '@hub/contracts';
import { formatDuration, formatTime, sessionDurationMs, sessionLabel, shortId } from '../model/format';
import { href } from '../routing/routes';
import { Link } from '../routing/router';
import { StatusBadge } from './status-badge';

export type SessionColumn = 'session' | 'status' | 'type' | 'image' | 'orchestration' | 'started' | 'duration' | 'reason';

const HEADINGS: Record<SessionColumn, string> = {
  session: 'Session',
  status: 'Status',
  type: 'Type',
  image: 'Image',
  orchestration: 'Orchestration',
  started: 'Started',
  duration: 'Duration',
  reason: 'Reason',
};

/** Sessions as a table: each links to its page (and to its orchestration's), its status in words and colour. Drawn again only when its props change. */
export const SessionTable = memo(function SessionTable({ sessions, columns, caption, now }: { sessions: readonly SessionView[]; columns: readonly SessionColumn[]; caption: string; now: number }) {
  return (
    <div className="table-wrap">
      <table className="sessions">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col" className={`col-${column}`}>
                {HEADINGS[column]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sessions.map((session) => (
            <tr key={session.id} data-session-id={session.id} data-status={session.status}>
              {columns.map((column) => (
                <td key={column} className={`col-${column}`}>
                  {cell(column, session, now)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
});

function cell(column: SessionColumn, session: SessionView, now: number) {
  switch (column) {
    case 'session':
      return (
        <Link href={href.session(session.id)} title={session.id}>
          {sessionLabel(session)}
        </Link>
      );
    case 'status':
      return <StatusBadge status={session.status} />;
    case 'type':
      return session.type;
    case 'image':
      return <span title={session.image}>{session.image}</span>;
    case 'orchestration':
      return (
        <Link href={href.orchestration(session.orchestrationId)} title={session.orchestrationId}>
          {shortId(session.orchestrationId)}
        </Link>
      );
    case 'started':
      return session.startedAt ? <time dateTime={session.startedAt}>{formatTime(session.startedAt)}</time> : <span className="muted">not started</span>;
    case 'duration': {
      const duration = sessionDurationMs(session, now);
      return duration === undefined ? <span className="muted">—</span> : formatDuration(duration);
    }
    case 'reason':
      return session.statusReason ? <span className="reason">{session.statusReason}</span> : <span className="muted">—</span>;
  }
}
