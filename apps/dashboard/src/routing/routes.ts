import type { DASHBOARD_PAGE_PATHS } from '@hub/contracts';

/** The dashboard's pages: the catalog's (DASHBOARD_PAGE_PATHS, which the gateway serves the app at), spelled out here for the bundle. */
export const PAGE_PATHS = {
  sessions: '/',
  orchestrations: '/orchestrations',
  orchestration: '/orchestrations/{id}',
  session: '/sessions/{id}',
  health: '/health-page',
} as const satisfies typeof DASHBOARD_PAGE_PATHS;

export type Route =
  | { page: 'sessions' }
  | { page: 'orchestrations' }
  | { page: 'orchestration'; id: string }
  | { page: 'session'; id: string }
  | { page: 'health' }
  | { page: 'not-found' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

const withId = (path: string, id: string) => path.replace('{id}', encodeURIComponent(id));

/** Where each page is. */
export const href = {
  sessions: (search = '') => `${PAGE_PATHS.sessions}${search}`,
  orchestrations: (search = '') => `${PAGE_PATHS.orchestrations}${search}`,
  orchestration: (id: string) => withId(PAGE_PATHS.orchestration, id),
  session: (id: string) => withId(PAGE_PATHS.session, id),
  health: () => PAGE_PATHS.health,
};

/** The page a path shows (an id that is no UUID: not found). */
export function routeOf(pathname: string): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (path === PAGE_PATHS.sessions) return { page: 'sessions' };
  if (path === PAGE_PATHS.orchestrations) return { page: 'orchestrations' };
  if (path === PAGE_PATHS.health) return { page: 'health' };
  const [, section, id, ...rest] = path.split('/');
  if (rest.length || !id || !isUuid(decodeURIComponent(id))) return { page: 'not-found' };
  if (section === 'orchestrations') return { page: 'orchestration', id: decodeURIComponent(id).toLowerCase() };
  if (section === 'sessions') return { page: 'session', id: decodeURIComponent(id).toLowerCase() };
  return { page: 'not-found' };
}
