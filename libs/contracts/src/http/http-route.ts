import { z } from 'zod';
import type { Scope } from '../auth/caller';

/**
 * The shapes of the HTTP routes catalog (http-routes.ts): what a route takes and answers, in the
 * contracts' own zod schemas, so that the OpenAPI document (openapi-document.ts), the typed client
 * (@hub/hub-api's HttpHubApi) and the route-coverage test all read one description of the API.
 */

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

/**
 * Who may call a route: with the API token as a bearer token, with git's credentials (HTTP Basic
 * with the token as password, or the bearer token), or anyone (probes, the API's own description).
 */
export type RouteAuth = 'bearer' | 'git' | 'none';

/** The house error body: every refusal of the gateway, whatever the route (http-error.filter.ts writes it). */
export const ErrorBodySchema = z.object({
  /** A HubError's code (bad_request, not_found, conflict, unavailable, internal) or the gateway's own (unauthorized, payload_too_large, …). */
  error: z.string(),
  message: z.string(),
  /** For a bad request, which fields were wrong and why. */
  details: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** A body that is one JSON value, validated by its schema. */
export interface JsonBody<S extends z.ZodType = z.ZodType> {
  readonly json: S;
}

/**
 * A body that is not one JSON value (a log, a diff, a file, a stream of lines or events, git's
 * protocol, a page), in one of `mediaTypes`, or a JSON value Hub does not model (`loose`, e.g. a
 * JSON-RPC message, whose schema only outlines it).
 */
export interface MediaBody {
  readonly mediaTypes: readonly string[];
  readonly loose?: z.ZodType;
}

export type RouteBody = JsonBody | MediaBody;

/** A value of a request or response header. */
export interface RouteHeader {
  readonly description: string;
  readonly schema: z.ZodType;
}

/** An answer the client takes (2xx, and the report `/health/ready` answers with 503 too). */
export interface RouteAnswer {
  readonly description: string;
  readonly body?: RouteBody;
  readonly headers?: Readonly<Record<string, RouteHeader>>;
}

/** A refusal: the house error body (ErrorBodySchema), with a status the route answers for a reason of its own. */
export interface RouteRefusal {
  readonly refusal: string;
}

export type RouteResponse = RouteAnswer | RouteRefusal;

export interface HttpRoute {
  readonly method: HttpMethod;
  /** OpenAPI style: `/api/v1/sessions/{id}`. */
  readonly path: string;
  /** Groups routes in the document (an OpenAPI tag). */
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly auth: RouteAuth;
  /**
   * The least scope a key needs to call it (auth other than `none`): by default `read` for a GET and
   * `write` for anything else (routeScope). The gateway refuses less with 403 before the route runs.
   */
  readonly scope?: Scope;
  /** One schema per `{name}` of the path. */
  readonly params?: Readonly<Record<string, z.ZodType>>;
  /** The path parameter that may hold `/` (the last one: each of its segments is percent-encoded on its own). */
  readonly spanningParam?: string;
  readonly query?: z.ZodObject;
  readonly headers?: Readonly<Record<string, RouteHeader>>;
  readonly body?: RouteBody;
  readonly responses: Readonly<Record<number, RouteResponse>>;
}

/** The scope `route` needs (null: no key at all), its own or the default of its method. */
export function routeScope(route: HttpRoute): Scope | null {
  if (route.auth === 'none') return null;
  return route.scope ?? (route.method === 'get' ? 'read' : 'write');
}

export const jsonBody = <S extends z.ZodType>(schema: S): JsonBody<S> => ({ json: schema });
export const mediaBody = (...mediaTypes: string[]): MediaBody => ({ mediaTypes });
export const refusal = (why: string): RouteRefusal => ({ refusal: why });

export const isJsonBody = (body: RouteBody | undefined): body is JsonBody => !!body && 'json' in body;
export const isRefusal = (response: RouteResponse | undefined): response is RouteRefusal => !!response && 'refusal' in response;

/** Keeps each route's exact type (its schemas), so that a client's inputs and answers are typed by it. */
export const defineRoutes = <const R extends Record<string, HttpRoute>>(routes: R): R => routes;

// ---- what a client sends and gets, typed by the route --------------------------------------------

type ParamsOf<R extends HttpRoute> = R['params'] extends Readonly<Record<string, z.ZodType>> ? { [K in keyof R['params']]: string } : never;
type QueryOf<R extends HttpRoute> = R['query'] extends z.ZodObject ? z.input<R['query']> : never;
type BodyOf<R extends HttpRoute> = R['body'] extends JsonBody<infer S> ? z.input<S> : never;

/** What a request on `R` is made of: its path parameters, its query and its JSON body, as the route types them. */
export type RouteInput<R extends HttpRoute> = { params?: ParamsOf<R>; query?: QueryOf<R>; body?: BodyOf<R> };

/** The JSON values `R` answers (its answers with a JSON body, parsed: defaults applied). */
export type AnswerOf<R extends HttpRoute> = {
  [S in keyof R['responses']]: R['responses'][S] extends { body: JsonBody<infer B> } ? z.output<B> : never;
}[keyof R['responses']];

/** The names of a path's parameters, in order: `/a/{id}/b/{path}` → id, path. */
export const pathParamsOf = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);

/**
 * The route's path with its parameters filled in, each percent-encoded (the spanning one segment by
 * segment, its `/` kept). A parameter left out is a programming error: it throws, naming it.
 */
export function pathOf(route: HttpRoute, params: Readonly<Record<string, string>> = {}): string {
  return route.path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${route.method.toUpperCase()} ${route.path}: no value for {${name}}`);
    return name === route.spanningParam ? value.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(value);
  });
}

/** `?a=1&b=x,y` of the given values, a list as its items joined by commas (none given: ''). */
export function queryStringOf(query: object = {}): string {
  const given = Object.entries(query).filter(([, value]) => value !== undefined);
  const pairs = given.map(([key, value]): [string, string] => [key, Array.isArray(value) ? value.join(',') : String(value)]);
  const search = new URLSearchParams(pairs).toString();
  return search ? `?${search}` : '';
}
