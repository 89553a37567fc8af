import 'reflect-metadata';
import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import type { Router } from 'express';
import { HTTP_ROUTES, type HttpRoute } from '@hub/contracts';
import { createLogger } from '@hub/config';
import { apiDocsRouter, dashboardRouter, GIT_HTTP_PREFIX, GitSmartHttp, metricsEndpoint, type GitHttpBackend, type OrchestrationRepositories } from '@hub/gateway-http';
import { GatewayModule } from './gateway.module';

/**
 * The routes catalog (HTTP_ROUTES, which the OpenAPI document and HttpHubApi are made of) lists every
 * route the gateway serves, and serves nothing it does not list: read from the controllers' Nest
 * metadata and from the express routers createGatewayHttpApp mounts itself, both ways. A route added
 * without describing it fails here.
 */

interface Served {
  method: string;
  path: string;
}

/** A path with its parameters unnamed (the client fills them in by the catalog's names): `{}`, or `{*}` for one that spans segments. */
const shapeOfCatalogPath = (route: HttpRoute) =>
  route.path.replace(/\{([^}]+)\}/g, (_match, name: string) => (name === route.spanningParam ? '{*}' : '{}'));
const shapeOfExpressPath = (path: string) => path.replace(/\*\w+/g, '{*}').replace(/:\w+/g, '{}');

const joined = (...parts: string[]) => '/' + parts.flatMap((part) => part.split('/')).filter(Boolean).join('/');
const asList = (value: string | string[] | undefined) => (Array.isArray(value) ? value : [value ?? '']);

/** Every route of the module's controllers, as Nest registers them. */
function controllerRoutes(module: Type): Served[] {
  const controllers: Type[] = Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, module) ?? [];
  return controllers.flatMap((controller) => {
    const prefixes = asList(Reflect.getMetadata(PATH_METADATA, controller));
    const handlers = Object.getOwnPropertyNames(controller.prototype).map((name) => controller.prototype[name]);
    return handlers
      .filter((handler) => typeof handler === 'function' && Reflect.hasMetadata(METHOD_METADATA, handler))
      .flatMap((handler) => {
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const paths = asList(Reflect.getMetadata(PATH_METADATA, handler));
        return prefixes.flatMap((prefix) => paths.map((path) => ({ method, path: shapeOfExpressPath(joined(prefix, path)) })));
      });
  });
}

/** Every route of an express router mounted at `prefix` (its middleware, such as a 404 fallback, is none). */
function routerRoutes(prefix: string, router: Router): Served[] {
  return router.stack.flatMap((layer) => {
    if (!layer.route) return [];
    const path = shapeOfExpressPath(joined(prefix, String(layer.route.path)));
    return Object.keys((layer.route as unknown as { methods: Record<string, boolean> }).methods).map((method) => ({
      method: method === '_all' ? 'ALL' : method.toUpperCase(),
      path,
    }));
  });
}

/** What createGatewayHttpApp mounts besides the controllers: `git fetch`, the API's description, the dashboard and /metrics. */
function mountedRoutes(): Served[] {
  const git = new GitSmartHttp({} as OrchestrationRepositories, {} as GitHttpBackend);
  return [
    ...routerRoutes(`/${GIT_HTTP_PREFIX}`, git.router()),
    ...routerRoutes('/', apiDocsRouter()),
    ...routerRoutes('/', dashboardRouter('/nowhere')),
    ...routerRoutes('/', metricsEndpoint(createLogger('test', 'silent'))),
  ];
}

describe('the routes catalog', () => {
  const documented = Object.values(HTTP_ROUTES).map((route: HttpRoute) => `${route.method.toUpperCase()} ${shapeOfCatalogPath(route)}`);
  const served = [...controllerRoutes(GatewayModule), ...mountedRoutes()].map(({ method, path }) =>
    // A route of every method (git push, refused) is described by the one method its client uses.
    method === 'ALL' ? (documented.find((route) => route.endsWith(` ${path}`)) ?? `ALL ${path}`) : `${method} ${path}`,
  );

  it('describes every route the gateway serves, and only those', () => {
    const undocumented = served.filter((route) => !documented.includes(route));
    const notServed = documented.filter((route) => !served.includes(route));
    expect({ undocumented, notServed }).toEqual({ undocumented: [], notServed: [] });
    expect(served.length).toBe(new Set(served).size);
  });

  it('reads the routes it compares (a controller and a mounted router at least)', () => {
    expect(served).toEqual(
      expect.arrayContaining(['POST /api/v1/sessions', 'GET /api/v1/sessions/{}/output/files/{*}', 'GET /git/{}/info/refs', 'GET /api/docs']),
    );
  });
});
