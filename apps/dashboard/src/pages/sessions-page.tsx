import { useEffect, useMemo, useState } from 'react';
import type { AnyEvent, SessionView } from '@hub/contracts';
import { useHub } from '../auth/auth';
import { LiveIndicator } from '../components/live-indicator';
import { Page } from '../components/page';
import { Problem } from '../components/problem';
import { SessionTable } from '../components/session-table';
import { useLiveEvents } from '../live/use-live-events';
import { useResource } from '../live/use-resource';
import { useNow, useThrottled } from '../live/timing';
import { applyStatusChange } from '../model/apply-status-change';
import { isEnded } from '../model/statuses';
import { href } from '../routing/routes';
import { historyState, Link, navigate, useLocation } from '../routing/router';
import { filtersFromSearch, isFiltered, listQueryOf, searchOf, type SessionFilters } from '../routing/session-filters';
import { SessionFilterForm } from './session-filter-form';

const LIVE_TYPES = ['session.status-changed', 'session.created', 'session.deleted'];
/** The page is read again at most this often while events come (the statuses themselves change at once). */
const RELOAD_INTERVAL_MS = 1_500;

/** What a page of the list keeps in its history entry: the pages before it, to go back with "Newer" (cursors only go one way). */
interface ListHistory {
  trail: string[];
}

/**
 * Every session, newest first, a page at a time (the API's cursor: nothing loads the whole list),
 * filtered by status, type, orchestration and text, all of it in the URL. Live: a status change
 * shows at once; new sessions (on the first page) and timings come with a throttled reload.
 */
export function SessionsPage() {
  const client = useHub();
  const { search } = useLocation();
  const filters = useMemo(() => filtersFromSearch(search), [search]);
  const key = searchOf(filters);
  const page = useResource(key, () => client.listSessions(listQueryOf(filters)));
  const [items, setItems] = useState<readonly SessionView[]>([]);
  useEffect(() => setItems(page.data?.items ?? []), [page.data]);

  const reload = useThrottled(page.reload, RELOAD_INTERVAL_MS);
  const live = useLiveEvents({ type: LIVE_TYPES, orchestrationId: filters.orchestrationId }, (event: AnyEvent) => {
    if (event.subject === 'session.status-changed') {
      setItems((current) => applyStatusChange(current, event.data));
      reload();
    } else if (event.subject !== 'session.created' || !filters.cursor) {
      // A new session shows on the first page; a deleted one may be on any.
      reload();
    }
  });
  const now = useNow(items.some((session) => session.startedAt && !isEnded(session.status)));

  const trail = historyState<ListHistory>().trail ?? [];
  const apply = (next: SessionFilters) => navigate(href.sessions(searchOf({ ...next, cursor: undefined })));
  const older = () => navigate(href.sessions(searchOf({ ...filters, cursor: page.data!.nextCursor! })), { state: { trail: [...trail, key] } satisfies ListHistory });
  const newer = () =>
    navigate(href.sessions(trail.at(-1) ?? searchOf({ ...filters, cursor: undefined })), { state: { trail: trail.slice(0, -1) } satisfies ListHistory });

  return (
    <Page title="Sessions" actions={<LiveIndicator live={live} />}>
      <SessionFilterForm key={key} filters={filters} onApply={apply} />
      {page.error && <Problem error={page.error} what="The sessions could not be read" />}
      <p className="summary" aria-live="polite">
        {page.loading && !page.data
          ? 'Loading sessions…'
          : `${items.length ? `${items.length} session${items.length === 1 ? '' : 's'}` : 'No sessions'}${isFiltered(filters) ? ' matching the filters' : ''}${
              filters.cursor ? ', older ones' : ', newest first'
            }.`}
      </p>
      {items.length > 0 && (
        <SessionTable
          sessions={items}
          now={now}
          caption="Sessions, newest first"
          columns={['session', 'status', 'type', 'image', 'orchestration', 'started', 'duration', 'reason']}
        />
      )}
      <nav className="pager" aria-label="Pages of sessions">
        {filters.cursor ? (
          <button type="button" className="secondary" onClick={newer}>
            ← Newer
          </button>
        ) : null}
        {filters.cursor ? <Link href={href.sessions(searchOf({ ...filters, cursor: undefined }))}>Newest</Link> : null}
        {page.data?.nextCursor ? (
          <button type="button" className="secondary" onClick={older}>
            Older →
          </button>
        ) : null}
      </nav>
    </Page>
  );
}
