import { useMemo } from 'react';
import type { OrchestrationStatus } from '@hub/contracts';
import { useHub } from '../auth/auth';
import { LiveIndicator } from '../components/live-indicator';
import { Page } from '../components/page';
import { Problem } from '../components/problem';
import { StatusBadge } from '../components/status-badge';
import { StatusCounts } from '../components/status-counts';
import { useLiveEvents } from '../live/use-live-events';
import { useResource } from '../live/use-resource';
import { useThrottled } from '../live/timing';
import { formatTime } from '../model/format';
import { isOrchestrationStatus, ORCHESTRATION_STATUSES, statusLabel } from '../model/statuses';
import { href } from '../routing/routes';
import { Link, navigate, useLocation } from '../routing/router';

const PAGE_SIZE = 50;
const LIVE_TYPES = ['session.status-changed', 'orchestration.finished', 'orchestration.deleted'];

/** The orchestrations, newest first, a page at a time, with their counts per status; read again (throttled) as their sessions move. */
export function OrchestrationsPage() {
  const client = useHub();
  const { search } = useLocation();
  const params = useMemo(() => new URLSearchParams(search), [search]);
  const statusParam = params.get('status') ?? '';
  const status: OrchestrationStatus | undefined = isOrchestrationStatus(statusParam) ? statusParam : undefined;
  const cursor = params.get('cursor') ?? undefined;
  const page = useResource(`${status}|${cursor}`, () => client.listOrchestrations({ status, cursor, limit: PAGE_SIZE }));
  const reload = useThrottled(page.reload, 2_000);
  const live = useLiveEvents({ type: LIVE_TYPES }, reload);
  const searchWith = (values: Record<string, string | undefined>) => {
    const next = new URLSearchParams(Object.entries(values).filter((entry): entry is [string, string] => !!entry[1]));
    const text = next.toString();
    return text ? `?${text}` : '';
  };

  return (
    <Page title="Orchestrations" actions={<LiveIndicator live={live} />}>
      <form className="filters" role="search" aria-label="Filter orchestrations" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor="orchestration-status">Status</label>
          <select id="orchestration-status" value={status ?? ''} onChange={(event) => navigate(href.orchestrations(searchWith({ status: event.target.value })))}>
            <option value="">any</option>
            {ORCHESTRATION_STATUSES.map((value) => (
              <option key={value} value={value}>
                {statusLabel(value)}
              </option>
            ))}
          </select>
        </div>
      </form>
      {page.error && <Problem error={page.error} what="The orchestrations could not be read" />}
      {page.data && page.data.items.length === 0 && <p className="summary">No orchestrations{status ? ` ${statusLabel(status)}` : ''}.</p>}
      {page.data && page.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Orchestrations, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Sessions</th>
                <th scope="col">By status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((orchestration) => (
                <tr key={orchestration.id} data-orchestration-id={orchestration.id}>
                  <td>
                    <Link href={href.orchestration(orchestration.id)} title={orchestration.id}>
                      {orchestration.name}
                    </Link>
                  </td>
                  <td>
                    <StatusBadge status={orchestration.status} />
                  </td>
                  <td>{orchestration.sessionCount}</td>
                  <td>
                    <StatusCounts counts={orchestration.counts} label={`Sessions of ${orchestration.name} by status`} />
                  </td>
                  <td>
                    <time dateTime={orchestration.createdAt}>{formatTime(orchestration.createdAt)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Pages of orchestrations">
        {cursor ? <Link href={href.orchestrations(searchWith({ status }))}>Newest</Link> : null}
        {page.data?.nextCursor ? <Link href={href.orchestrations(searchWith({ status, cursor: page.data.nextCursor }))}>Older →</Link> : null}
      </nav>
    </Page>
  );
}
