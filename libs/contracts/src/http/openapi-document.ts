import { z } from 'zod';
import { HealthCheckSchema, ReadinessReportSchema } from '../rpc/health.schemas';
import {
  CombinedChangesSchema,
  CreateOrchestrationRequestSchema,
  OrchestrationPageSchema,
  OrchestrationResultSchema,
  OrchestrationSessionSchema,
  OrchestrationStatusSchema,
  OrchestrationSummarySchema,
  OrchestrationViewSchema,
  PublishOutcomeSchema,
  SessionCountsSchema,
} from '../orchestrations/orchestration.schemas';
import {
  ChangeSummarySchema,
  CreateSessionRequestSchema,
  OutputFileSchema,
  SessionOutputSchema,
  SessionPageSchema,
  SessionViewSchema,
  SkippedOutputSchema,
} from '../sessions/session.schemas';
import { SessionStatusSchema } from '../sessions/session-status';
import {
  ErrorBodySchema,
  type HttpRoute,
  isJsonBody,
  isRefusal,
  pathParamsOf,
  refusal,
  type RouteBody,
  type RouteResponse,
  routeScope,
} from './http-route';

/**
 * The OpenAPI 3.1 document of the HTTP routes catalog, its schemas converted from the contracts' zod
 * schemas by z.toJSONSchema (draft 2020-12, OpenAPI 3.1's dialect): what a client sends as zod reads
 * it (`io: 'input'`: defaults optional, a query's numbers as given), what it gets as zod writes it
 * (`io: 'output'`). The schemas named below are components, referenced wherever they occur.
 */

type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

/** The schemas the document names (components/schemas), each referenced wherever it occurs. */
const NAMED_SCHEMAS: Record<string, z.ZodType> = {
  Error: ErrorBodySchema,
  SessionStatus: SessionStatusSchema,
  CreateSessionRequest: CreateSessionRequestSchema,
  SessionView: SessionViewSchema,
  SessionPage: SessionPageSchema,
  ChangeSummary: ChangeSummarySchema,
  SessionOutput: SessionOutputSchema,
  OutputFile: OutputFileSchema,
  SkippedOutput: SkippedOutputSchema,
  CreateOrchestrationRequest: CreateOrchestrationRequestSchema,
  OrchestrationSession: OrchestrationSessionSchema,
  OrchestrationStatus: OrchestrationStatusSchema,
  SessionCounts: SessionCountsSchema,
  OrchestrationSummary: OrchestrationSummarySchema,
  OrchestrationView: OrchestrationViewSchema,
  OrchestrationPage: OrchestrationPageSchema,
  OrchestrationResult: OrchestrationResultSchema,
  CombinedChanges: CombinedChangesSchema,
  PublishOutcome: PublishOutcomeSchema,
  ReadinessReport: ReadinessReportSchema,
  HealthCheck: HealthCheckSchema,
};

const TAGS: { name: string; description: string }[] = [
  { name: 'sessions', description: 'One agent run each, in its own container.' },
  { name: 'orchestrations', description: 'DAGs of sessions, created, started and cancelled as one.' },
  { name: 'events', description: "Hub's events, live." },
  { name: 'notifications', description: 'What became of the webhooks sent on its events (HUB_WEBHOOKS).' },
  { name: 'keys', description: 'API keys (each with a scope and a tenant) and the audit log of writes; admin keys only.' },
  { name: 'health', description: 'Probes; no token.' },
  { name: 'claude-hub', description: "claude-hub's webhook protocol, for its clients." },
  { name: 'mcp', description: "Hub's MCP tools over streamable HTTP." },
  { name: 'git', description: '`git fetch` from Hub (read-only).' },
  { name: 'docs', description: 'This description of the API; no token.' },
];

const SECURITY = {
  bearer: [{ bearer: [] }],
  git: [{ gitBasic: [] }, { bearer: [] }],
  none: [],
} satisfies Record<HttpRoute['auth'], unknown>;

const COMPONENT_REF = '#/components/schemas/';

/** zod writes every integer's bounds, the safe integers' when it has none of its own: noise, in a document. */
function withoutSafeIntegerBounds({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema['minimum'] === Number.MIN_SAFE_INTEGER) delete jsonSchema['minimum'];
  if (jsonSchema['maximum'] === Number.MAX_SAFE_INTEGER) delete jsonSchema['maximum'];
}

/** `#/$defs/X` (where z.toJSONSchema puts a named schema) becomes `#/components/schemas/X`, at any depth. */
function relinked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relinked);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' ? inner.replace(/^#\/\$defs\//, COMPONENT_REF) : relinked(inner),
    ]),
  );
}

/** Converts zod schemas, collecting the named ones they hold as components (each converted once, the same way wherever it occurs). */
class SchemaConverter {
  readonly components: Record<string, JsonSchema> = {};
  private readonly registry = z.registry<{ id: string }>();

  constructor(named: Record<string, z.ZodType>) {
    for (const [id, schema] of Object.entries(named)) this.registry.add(schema, { id });
  }

  convert(schema: z.ZodType, io: Io): JsonSchema {
    const { $schema: _dialect, $defs, ...converted } = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      metadata: this.registry,
      override: withoutSafeIntegerBounds,
    }) as JsonSchema;
    for (const [id, component] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) this.addComponent(id, relinked(component) as JsonSchema, io);
    return relinked(converted) as JsonSchema;
  }

  private addComponent(id: string, component: JsonSchema, io: Io): void {
    const known = this.components[id];
    if (known && JSON.stringify(known) !== JSON.stringify(component)) {
      throw new Error(`schema ${id} differs as a request (input) and as a response (output); name it once for each (converting as ${io})`);
    }
    this.components[id] = component;
  }
}

const errorContent = { 'application/json': { schema: { $ref: `${COMPONENT_REF}Error` } } };

function contentOf(body: RouteBody, io: Io, schemas: SchemaConverter): Record<string, unknown> {
  if (isJsonBody(body)) return { 'application/json': { schema: schemas.convert(body.json, io) } };
  return Object.fromEntries(body.mediaTypes.map((type) => [type, body.loose ? { schema: schemas.convert(body.loose, io) } : {}]));
}

function responseOf(response: RouteResponse, schemas: SchemaConverter): Record<string, unknown> {
  if (isRefusal(response)) return { description: response.refusal, content: errorContent };
  const headers = Object.entries(response.headers ?? {}).map(([name, header]) => [
    name,
    { description: header.description, schema: schemas.convert(header.schema, 'output') },
  ]);
  return {
    description: response.description,
    ...(headers.length ? { headers: Object.fromEntries(headers) } : {}),
    ...(response.body ? { content: contentOf(response.body, 'output', schemas) } : {}),
  };
}

/** The refusals every route of a kind shares: the token, the JSON body's limits, a malformed request. */
function sharedRefusals(route: HttpRoute): Record<number, RouteResponse> {
  const takesJson = isJsonBody(route.body) || !!route.body?.mediaTypes.includes('application/json');
  // git's routes answer 404 for what they do not serve; the others validate what they take.
  const validates = route.auth !== 'git' && (!!route.params || !!route.query || isJsonBody(route.body));
  const refusals: Record<number, RouteResponse> = {};
  if (validates) refusals[400] = refusal('Invalid: `details` names each field and why.');
  if (route.auth !== 'none') refusals[401] = refusal('No token, or not the right one (unknown, or revoked).');
  const scope = routeScope(route);
  if (scope && scope !== 'read') refusals[403] = refusal(`The key's scope is less than ${scope}.`);
  if (route.auth !== 'none') refusals[429] = refusal("Over the tenant's request rate (HUB_TENANT_REQUESTS_PER_MINUTE): `Retry-After` says in how many seconds to try again.");
  if (takesJson) {
    refusals[413] = refusal('The body is over the limit (HUB_MAX_BODY_BYTES).');
    refusals[415] = refusal('The body is not JSON.');
  }
  return refusals;
}

function parametersOf(route: HttpRoute, schemas: SchemaConverter): unknown[] {
  const path = pathParamsOf(route.path).map((name) => {
    const schema = route.params?.[name];
    if (!schema) throw new Error(`${route.method.toUpperCase()} ${route.path}: no schema for {${name}}`);
    const spans = name === route.spanningParam ? { description: 'May hold `/`: each segment percent-encoded on its own.' } : {};
    return { name, in: 'path', required: true, ...spans, schema: schemas.convert(schema, 'input') };
  });
  const query = route.query ? schemas.convert(route.query, 'input') : { properties: {} };
  const required = new Set((query['required'] as string[] | undefined) ?? []);
  const queries = Object.entries(query['properties'] as Record<string, JsonSchema>).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema,
  }));
  const headers = Object.entries(route.headers ?? {}).map(([name, header]) => ({
    name,
    in: 'header',
    description: header.description,
    schema: schemas.convert(header.schema, 'input'),
  }));
  return [...path, ...queries, ...headers];
}

function operationOf(operationId: string, route: HttpRoute, schemas: SchemaConverter): Record<string, unknown> {
  const parameters = parametersOf(route, schemas);
  const responses = { ...sharedRefusals(route), ...route.responses };
  const scope = routeScope(route);
  const description = [route.description, scope && `Needs a key of scope \`${scope}\`${scope === 'admin' ? '' : ' or more'}.`].filter(Boolean).join(' ');
  return {
    operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(description ? { description } : {}),
    security: SECURITY[route.auth],
    ...(scope ? { 'x-hub-scope': scope } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: contentOf(route.body, 'input', schemas) } } : {}),
    responses: {
      ...Object.fromEntries(Object.entries(responses).map(([status, response]) => [status, responseOf(response, schemas)])),
      default: { description: 'Any other error: 500 when unexpected, 503 when a service Hub needs is down (the message says which).', content: errorContent },
    },
  };
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: typeof TAGS;
  security: unknown[];
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
}

/** The document of `routes` (HTTP_ROUTES, keyed by operationId). Throws when a route is not described fully. */
export function openApiDocument(routes: Readonly<Record<string, HttpRoute>>): OpenApiDocument {
  const schemas = new SchemaConverter(NAMED_SCHEMAS);
  schemas.convert(ErrorBodySchema, 'output'); // every refusal refers to it
  const paths: OpenApiDocument['paths'] = {};
  for (const [operationId, route] of Object.entries(routes)) {
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`${route.method.toUpperCase()} ${route.path} is described twice`);
    item[route.method] = operationOf(operationId, route, schemas);
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'Hub',
      version: '1',
      description:
        'Runs AI coding-agent sessions in Docker containers; orchestrations are DAGs of sessions. ' +
        'Generated from the contracts (libs/contracts): the schemas are those every edge validates with. ' +
        'Send the API token as `Authorization: Bearer <token>` (`npm run hub` prints it; it is in `.hub/api-token`), or an API key ' +
        '(`hub_…`, made with `POST /api/v1/keys`). A key has a scope, `read` < `write` < `admin`: each operation names the least it ' +
        'needs as `x-hub-scope` (403 below it), and a tenant, whose requests are limited per minute (429 with `Retry-After` above it). ' +
        'Every refusal is JSON `{ error, message, details? }`.',
    },
    tags: TAGS,
    security: SECURITY.bearer,
    paths,
    components: {
      schemas: schemas.components,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'The API token (HUB_API_TOKEN, or generated into .hub/api-token), or an API key (hub_…).' },
        gitBasic: { type: 'http', scheme: 'basic', description: 'For git: any user name, the API token or an API key as the password.' },
      },
    },
  };
}
