import { HTTP_ROUTES, type HttpRoute, routeScope, type Scope, scopeAllows } from '@hub/contracts';

/** A request's route in the catalog (`POST /api/v1/sessions/{id}/cancel`) and the scope it needs. */
export interface ScopedRoute {
  route: string;
  scope: Scope;
}

interface Matcher extends ScopedRoute {
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
 * (the router answers it 404).
 */
export class RouteScopes {
  private readonly matchers: Matcher[];

  constructor(routes: Readonly<Record<string, HttpRoute>> = HTTP_ROUTES) {
    this.matchers = Object.values(routes).flatMap((route) => {
      const scope = routeScope(route);
      return scope ? [{ method: route.method.toUpperCase(), pattern: patternOf(route), scope, route: `${route.method.toUpperCase()} ${route.path}` }] : [];
    });
  }

  /** The route `method path` is for (HEAD as GET), the most demanding when several match; null when none does. */
  of(method: string, path: string): ScopedRoute | null {
    const asked = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
    let found: ScopedRoute | null = null;
    for (const matcher of this.matchers) {
      if (matcher.method !== asked || !matcher.pattern.test(path)) continue;
      if (!found || !scopeAllows(found.scope, matcher.scope)) found = { route: matcher.route, scope: matcher.scope };
    }
    return found;
  }
}
