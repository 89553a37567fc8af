import { HTTP_ROUTES, type HttpRoute, routeScope, type Scope, scopeAllows } from '@hub/contracts';

/** A request's route in the catalog (`POST /api/v1/sessions/{id}/cancel`) and the scope it needs. */
export interface ScopedRoute {
  route: string;
  scope: Scope;
}

interface Matcher {
  /** Its key in the catalog: its operationId. */
  operationId: string;
  route: string;
  /** null for a route without auth (health, the API's description). */
  scope: Scope | null;
  method: string;
  pattern: RegExp;
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The catalog path as express matches it: a `{name}` is one segment (the spanning one, several);
 * letters in any case and a trailing slash, as express's router takes them, so that no spelling
 * the router serves escapes the check.
 */
function patternOf(route: HttpRoute): RegExp {
  const source = route.path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const param = /^\{([^}]+)\}$/.exec(part);
      if (!param) return escaped(part);
      return param[1] === route.spanningParam ? '.+' : '[^/]+';
    })
    .join('');
  return new RegExp(`^${source}/?$`, 'i');
}

/**
 * Which scope a request needs, read from the routes catalog (HTTP_ROUTES: each route's `scope`, or
 * its method's default): matched by method and path, so the check runs in the authentication
 * middleware, before the body is read. A request for no route of the catalog needs nothing more
 * (the router answers it 404). The same match names the route a request counts under in the HTTP
 * metrics (operationOf).
 */
export class RouteScopes {
  private readonly matchers: Matcher[];

  constructor(routes: Readonly<Record<string, HttpRoute>> = HTTP_ROUTES) {
    this.matchers = Object.entries(routes).map(([operationId, route]) => ({
      operationId,
      method: route.method.toUpperCase(),
      pattern: patternOf(route),
      scope: routeScope(route),
      route: `${route.method.toUpperCase()} ${route.path}`,
    }));
  }

  /** The route `method path` is for (HEAD as GET), the most demanding when several match; null when none does. */
  of(method: string, path: string): ScopedRoute | null {
    let found: ScopedRoute | null = null;
    for (const matcher of this.matching(method, path)) {
      if (!matcher.scope) continue;
      if (!found || !scopeAllows(found.scope, matcher.scope)) found = { route: matcher.route, scope: matcher.scope };
    }
    return found;
  }

  /** The operationId of the catalog route `method path` is for, whatever its auth (HEAD as GET); null when none. */
  operationOf(method: string, path: string): string | null {
    return this.matching(method, path)[0]?.operationId ?? null;
  }

  private matching(method: string, path: string): Matcher[] {
    const asked = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
    return this.matchers.filter((matcher) => matcher.method === asked && matcher.pattern.test(path));
  }
}
