import { ListSessionsQuery, MAX_PAGE_SIZE, SessionPage, SessionView } from '@hub/contracts';
import type { SessionFilter } from './hub-api.port';

/**
 * Every session `filter` matches, up to the newest `max`, oldest first: `list` asked page by page
 * (MAX_PAGE_SIZE at a time) until the last page or `max`. The one paging loop of both HubApi
 * implementations.
 */
export async function collectSessions(
  list: (query: ListSessionsQuery) => Promise<SessionPage>,
  filter: SessionFilter,
  max: number,
): Promise<SessionView[]> {
  const sessions: SessionView[] = [];
  let cursor: string | undefined;
  while (sessions.length < max) {
    const page = await list({ ...filter, limit: Math.min(MAX_PAGE_SIZE, max - sessions.length), ...(cursor ? { cursor } : {}) });
    sessions.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    if (!cursor) break;
  }
  return sessions.reverse();
}
