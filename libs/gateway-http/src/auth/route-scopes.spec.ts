import { HTTP_ROUTES, routeScope } from '@hub/contracts';
import { RouteScopes } from './route-scopes';

describe('the scope a request needs', () => {
  const scopes = new RouteScopes();
  const id = '0b9c8a0e-5d1c-4c53-9a51-1f0c1b7e4a11';

  it("is its catalog route's: read to read, write to change, admin for keys, the audit log and webhook deliveries", () => {
    expect(scopes.of('GET', '/api/v1/sessions')).toEqual({ route: 'GET /api/v1/sessions', scope: 'read' });
    expect(scopes.of('POST', '/api/v1/sessions')).toEqual({ route: 'POST /api/v1/sessions', scope: 'write' });
    expect(scopes.of('POST', `/api/v1/sessions/${id}/cancel`)).toEqual({ route: 'POST /api/v1/sessions/{id}/cancel', scope: 'write' });
    expect(scopes.of('PATCH', `/api/v1/orchestrations/${id}`)?.scope).toBe('write');
    expect(scopes.of('GET', `/api/v1/sessions/${id}/output/files/a/b/c.txt`)).toEqual({ route: 'GET /api/v1/sessions/{id}/output/files/{path}', scope: 'read' });
    expect(scopes.of('GET', '/api/v1/keys')?.scope).toBe('admin');
    expect(scopes.of('POST', `/api/v1/keys/${id}/revoke`)?.scope).toBe('admin');
    expect(scopes.of('GET', '/api/v1/audit')?.scope).toBe('admin');
    expect(scopes.of('GET', '/api/v1/notifications/deliveries')?.scope).toBe('admin');
  });

  it('lets the protocols that check each of their requests (MCP, claude-hub) and git fetch through with read', () => {
    expect(scopes.of('POST', '/mcp')?.scope).toBe('read');
    expect(scopes.of('POST', '/api/webhooks/claude')?.scope).toBe('read');
    expect(scopes.of('POST', `/git/${id}.git/git-upload-pack`)?.scope).toBe('read');
  });

  it('matches every spelling the router serves: any case, a trailing slash, HEAD as GET', () => {
    expect(scopes.of('post', '/API/V1/SESSIONS/')?.scope).toBe('write');
    expect(scopes.of('HEAD', '/api/v1/audit')?.scope).toBe('admin');
  });

  it('has nothing to say about what is not in the catalog (the router answers 404)', () => {
    expect(scopes.of('POST', '/api/v1/nowhere')).toBeNull();
    expect(scopes.of('DELETE', '/api/v1/sessions')).toBeNull();
    expect(scopes.of('GET', '/health/ready')).toBeNull();
  });

  it('covers every authenticated route of the catalog', () => {
    for (const route of Object.values(HTTP_ROUTES)) {
      const path = route.path.replace(/\{[^}]+\}/g, 'x');
      expect({ route: route.path, scope: scopes.of(route.method, path)?.scope ?? null }).toEqual({ route: route.path, scope: routeScope(route) });
    }
  });
});
