import type { SessionStatus } from '@hub/contracts';
import type { SessionListQuery } from '../api/hub-client';
import { isSessionStatus } from '../model/statuses';
import { isUuid } from './routes';

/** What the sessions list shows, all of it in the page's URL (so a view can be reloaded, bookmarked and shared). */
export interface SessionFilters {
  status?: SessionStatus;
  type?: string;
  orchestrationId?: string;
  /** Text in the name, id or status reason. */
  q?: string;
  limit: number;
  /** The page after this cursor (the API's nextCursor); none: the newest. */
  cursor?: string;
}

export const PAGE_SIZES = [25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 50;
/** The API's bound on `q` (MAX_SESSION_SEARCH_LENGTH). */
export const MAX_SEARCH_LENGTH = 200;

const TYPE = /^[a-z][a-z0-9_-]{0,63}$/;
const CURSOR = /^[A-Za-z0-9_-]{1,64}$/;
const CONTROL = /[\x00-\x1f\x7f]/;

/** The URL's parameter for each filter. */
const PARAM = { status: 'status', type: 'type', orchestrationId: 'orchestration', q: 'q', limit: 'limit', cursor: 'cursor' } as const;

/** The filters a URL's query holds; a value the API would refuse is left out (the list shows without it). */
export function filtersFromSearch(search: string): SessionFilters {
  const params = new URLSearchParams(search);
  const get = (name: string) => params.get(name)?.trim() || undefined;
  const status = get(PARAM.status);
  const type = get(PARAM.type);
  const orchestrationId = get(PARAM.orchestrationId)?.toLowerCase();
  const q = get(PARAM.q);
  const limit = Number(get(PARAM.limit));
  const cursor = get(PARAM.cursor);
  return {
    status: status && isSessionStatus(status) ? status : undefined,
    type: type && TYPE.test(type) ? type : undefined,
    orchestrationId: orchestrationId && isUuid(orchestrationId) ? orchestrationId : undefined,
    q: q && q.length <= MAX_SEARCH_LENGTH && !CONTROL.test(q) ? q : undefined,
    limit: (PAGE_SIZES as readonly number[]).includes(limit) ? limit : DEFAULT_PAGE_SIZE,
    cursor: cursor && CURSOR.test(cursor) ? cursor : undefined,
  };
}

/** The URL query of `filters` (`''` for the defaults), parameters in a fixed order. */
export function searchOf(filters: SessionFilters): string {
  const params = new URLSearchParams();
  if (filters.status) params.set(PARAM.status, filters.status);
  if (filters.type) params.set(PARAM.type, filters.type);
  if (filters.orchestrationId) params.set(PARAM.orchestrationId, filters.orchestrationId);
  if (filters.q) params.set(PARAM.q, filters.q);
  if (filters.limit !== DEFAULT_PAGE_SIZE) params.set(PARAM.limit, String(filters.limit));
  if (filters.cursor) params.set(PARAM.cursor, filters.cursor);
  const search = params.toString();
  return search ? `?${search}` : '';
}

/** What the API is asked for them (`GET /api/v1/sessions`). */
export function listQueryOf(filters: SessionFilters): SessionListQuery {
  const { status, type, orchestrationId, q, limit, cursor } = filters;
  return { status, type, orchestrationId, q, limit, cursor };
}

/** Whether any filter narrows the list (paging aside). */
export const isFiltered = (filters: SessionFilters): boolean => !!(filters.status || filters.type || filters.orchestrationId || filters.q);
