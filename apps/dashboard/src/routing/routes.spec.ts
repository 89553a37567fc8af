import { DASHBOARD_PAGE_PATHS } from '@hub/contracts';
import { href, PAGE_PATHS, routeOf } from './routes';

describe('the dashboard routes', () => {
  const id = '0B9C8A0E-5d1c-4c53-9a51-1f0c1b7e4a11';

  it('are the pages the gateway serves the app at', () => {
    expect(PAGE_PATHS).toEqual(DASHBOARD_PAGE_PATHS);
  });

  it('read the page from the path, ids in lower case, a trailing slash allowed', () => {
    expect(routeOf('/')).toEqual({ page: 'sessions' });
    expect(routeOf('/orchestrations/')).toEqual({ page: 'orchestrations' });
    expect(routeOf(`/orchestrations/${id}`)).toEqual({ page: 'orchestration', id: id.toLowerCase() });
    expect(routeOf(`/sessions/${id}`)).toEqual({ page: 'session', id: id.toLowerCase() });
    expect(routeOf('/health-page')).toEqual({ page: 'health' });
  });

  it('find no page for anything else', () => {
    for (const path of ['/sessions', '/sessions/not-an-id', `/sessions/${id}/logs`, `/things/${id}`, '/health']) {
      expect({ path, route: routeOf(path) }).toEqual({ path, route: { page: 'not-found' } });
    }
  });

  it('make the links that read back as their page', () => {
    expect(routeOf(href.session(id))).toEqual({ page: 'session', id: id.toLowerCase() });
    expect(routeOf(href.orchestration(id))).toEqual({ page: 'orchestration', id: id.toLowerCase() });
    expect(href.sessions('?q=x')).toBe('/?q=x');
  });
});
