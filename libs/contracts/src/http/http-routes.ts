import { z } from 'zod';
import { LivenessSchema, ReadinessReportSchema } from '../rpc/health.schemas';
import { LiveEventsQuerySchema } from '../events/live-events.schemas';
import {
  CreateOrchestrationRequestSchema,
  DeletedOrchestrationSchema,
  GetOrchestrationQuerySchema,
  ListOrchestrationsQuerySchema,
  OrchestrationPageSchema,
  OrchestrationSummarySchema,
  OrchestrationViewSchema,
  UpdateOrchestrationRequestSchema,
} from '../orchestrations/orchestration.schemas';
import {
  ContinueSessionRequestSchema,
  CreateSessionRequestSchema,
  DeletedSessionSchema,
  GetSessionQuerySchema,
  ListSessionsQuerySchema,
  OrchestrationIdSchema,
  SessionIdSchema,
  SessionLogQuerySchema,
  SessionOutputSchema,
  SessionPageSchema,
  SessionViewSchema,
  WAIT_HEADER,
} from '../sessions/session.schemas';
import { ListNotificationDeliveriesQuerySchema, NotificationDeliveryPageSchema } from '../notifications/notification.schemas';
import {
  ApiKeyIdSchema,
  ApiKeyPageSchema,
  ApiKeySchema,
  AuditPageSchema,
  CreateApiKeyRequestSchema,
  CreatedApiKeySchema,
  ListApiKeysQuerySchema,
  ListAuditQuerySchema,
} from '../auth/api-keys.schemas';
import { UsageSummaryQuerySchema, UsageSummarySchema } from '../usage/usage.schemas';
import { RunnerListSchema } from '../runners/runner-view.schemas';
import { defineRoutes, type HttpRoute, jsonBody, mediaBody, refusal, type RouteHeader } from './http-route';

/**
 * Every route the gateway serves, described once: the OpenAPI document (`GET /api/openapi.json`) is
 * built from this, HttpHubApi builds its requests from it, and a gateway test fails when a
 * controller or a mounted router serves a route that is not here (or this lists one nobody serves).
 * The key of each route is its operationId.
 *
 * What every route shares is added by the document, not repeated here: 401 without the token (auth
 * other than `none`), 403 for a key whose scope is less than the route's (`scope`, by default read
 * for a GET and write otherwise: routeScope), 429 over the tenant's request rate, 400 when a
 * parameter, the query or the body is invalid, 413 and 415 for a JSON body over the limit or not
 * JSON, and any other error in the house error body.
 */

const API = '/api/v1';

/**
 * The dashboard's pages (apps/dashboard, a single-page app the gateway serves from its build): served
 * without the token, since a page holds no data; the page asks for the token once and sends it with
 * each API call it makes. Its assets are under DASHBOARD_ASSETS_PATH.
 */
export const DASHBOARD_PAGE_PATHS = {
  sessions: '/',
  orchestrations: '/orchestrations',
  orchestration: '/orchestrations/{id}',
  session: '/sessions/{id}',
  health: '/health-page',
} as const;
export const DASHBOARD_ASSETS_PATH = '/assets';

/** Where the API describes itself; both are served without the token (they hold no data). */
export const OPENAPI_DOCUMENT_PATH = '/api/openapi.json';
export const API_DOCS_PATH = '/api/docs';

const sessionId = { id: SessionIdSchema };
const orchestrationId = { id: OrchestrationIdSchema };

const waitHeader: Record<string, RouteHeader> = {
  [WAIT_HEADER]: {
    description: 'With `wait`: `reached` when what was awaited happened, `timed-out` when the answer is the view at the end of `timeoutSeconds`.',
    schema: z.enum(['reached', 'timed-out']),
  },
};

/** A JSON-RPC 2.0 message, outlined: MCP's own schema says the rest. */
const JsonRpcMessageSchema = z.looseObject({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.string(), z.number(), z.null()]).optional(),
  method: z.string().optional(),
  params: z.unknown().optional(),
  result: z.unknown().optional(),
  error: z.looseObject({ code: z.number(), message: z.string() }).optional(),
});

/**
 * claude-hub's envelope, outlined: its shapes are an external protocol's, kept beside the mapping in
 * @hub/gateway-http, which puts them in the document it serves.
 */
const claudeHubEnvelope = { mediaTypes: ['application/json'], loose: z.looseObject({ message: z.string(), event: z.string() }) };

/** `<orchestration id>.git`: the repository of an orchestration's sessions and result. */
const GitRepositorySchema = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.git$/, 'must be <orchestration id>.git');
const gitRepository = { repository: GitRepositorySchema };

/** A page of the dashboard: HTML, no token; 503 (saying to build it) when the gateway has no build of it. */
function dashboardPage(path: string, summary: string, description: string) {
  return {
    method: 'get',
    path,
    tag: 'dashboard',
    summary,
    description: `${description} No token: the page holds no data, and sends the token it is given (kept for the browser session, never in a URL) with each API call.`,
    auth: 'none',
    responses: {
      200: { description: 'The page (the same single-page app for every page of the dashboard).', body: mediaBody('text/html') },
      503: { description: 'The dashboard is not built: `npm run build` builds it.', body: mediaBody('text/html', 'application/json') },
    },
  } as const satisfies HttpRoute;
}

export const HTTP_ROUTES = defineRoutes({
  // ---- sessions ----------------------------------------------------------------------------------
  createSession: {
    method: 'post',
    path: `${API}/sessions`,
    tag: 'sessions',
    summary: 'Create a session',
    description:
      'Records a session (`start: true` starts it at once). Without `orchestrationId` it joins the orchestration of its `dependsOn` sessions (which must all be in one), else a new one.',
    auth: 'bearer',
    body: jsonBody(CreateSessionRequestSchema),
    responses: {
      201: { description: 'The session, created.', body: jsonBody(SessionViewSchema) },
      404: refusal('A session it depends on, or its orchestration, does not exist.'),
    },
  },
  listSessions: {
    method: 'get',
    path: `${API}/sessions`,
    tag: 'sessions',
    summary: 'List sessions',
    description:
      'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next page. `status` takes one or several statuses, comma-separated; `q` keeps the sessions whose name, id or status reason holds its text (in any case).',
    auth: 'bearer',
    query: ListSessionsQuerySchema,
    responses: { 200: { description: 'A page of sessions.', body: jsonBody(SessionPageSchema) } },
  },
  getSession: {
    method: 'get',
    path: `${API}/sessions/{id}`,
    tag: 'sessions',
    summary: 'Read a session',
    description:
      '`?wait=terminal&timeoutSeconds=n` holds the answer until the session has ended, or answers it as it is at the timeout (200 either way; header `Hub-Wait` says which).',
    auth: 'bearer',
    params: sessionId,
    query: GetSessionQuerySchema,
    responses: {
      200: { description: 'The session.', body: jsonBody(SessionViewSchema), headers: waitHeader },
      404: refusal('No such session.'),
    },
  },
  startSession: {
    method: 'post',
    path: `${API}/sessions/{id}/start`,
    tag: 'sessions',
    summary: 'Start a session',
    description: 'It waits for its dependencies, then runs. Starting a session already on its way changes nothing.',
    auth: 'bearer',
    params: sessionId,
    responses: {
      202: { description: 'The session, on its way.', body: jsonBody(SessionViewSchema) },
      404: refusal('No such session.'),
      409: refusal('It has ended.'),
    },
  },
  cancelSession: {
    method: 'post',
    path: `${API}/sessions/{id}/cancel`,
    tag: 'sessions',
    summary: 'Cancel a session',
    description: 'A running container gets SIGTERM, then SIGKILL after the grace period (HUB_STOP_GRACE_SECONDS).',
    auth: 'bearer',
    params: sessionId,
    responses: {
      202: { description: 'The session, cancelled or being stopped.', body: jsonBody(SessionViewSchema) },
      404: refusal('No such session.'),
      409: refusal('It has ended.'),
    },
  },
  rerunSession: {
    method: 'post',
    path: `${API}/sessions/{id}/rerun`,
    tag: 'sessions',
    summary: 'Run an ended session again',
    description: 'However it ended, with the sessions downstream of it that did not complete; a completed dependent keeps its result.',
    auth: 'bearer',
    params: sessionId,
    responses: {
      202: { description: 'The session, waiting again.', body: jsonBody(SessionViewSchema) },
      404: refusal('No such session.'),
      409: refusal('It is on its way.'),
    },
  },
  continueSession: {
    method: 'post',
    path: `${API}/sessions/{id}/continue`,
    tag: 'sessions',
    summary: 'Continue a completed session',
    description:
      "A follow-up in the same conversation: a new session of its orchestration that depends on it (so it starts from its code changes, with its output at /hub/inputs/<name>/) and whose agent resumes the conversation kept in that output (Claude Code's image does: HUB_CONTINUE_FROM). Listed in both sessions' views (`continues`, `continuedBy`).",
    auth: 'bearer',
    params: sessionId,
    body: jsonBody(ContinueSessionRequestSchema),
    responses: {
      201: { description: 'The new session.', body: jsonBody(SessionViewSchema) },
      404: refusal('No such session.'),
      409: refusal('It did not complete: there is no conversation to continue.'),
    },
  },
  deleteSession: {
    method: 'delete',
    path: `${API}/sessions/{id}`,
    tag: 'sessions',
    summary: 'Delete an ended session',
    description:
      'Deletes a session that has ended and that no session depends on, with its attempts; its log, output files and changes are removed from the object store soon after. When it was the last session of its orchestration, the orchestration is deleted too.',
    auth: 'bearer',
    scope: 'write',
    params: sessionId,
    responses: {
      200: { description: 'What was deleted.', body: jsonBody(DeletedSessionSchema) },
      404: refusal('No such session.'),
      409: refusal('It has not ended, or sessions depend on it: the message names them.'),
    },
  },
  sessionLog: {
    method: 'get',
    path: `${API}/sessions/{id}/logs`,
    tag: 'sessions',
    summary: "An attempt's log",
    description:
      'Stdout and stderr of an attempt (default the latest), as stored when its container exited. `follow=true` follows it as it is printed instead, line by line from its first: NDJSON (`{ t, stream, line }` per line), or server-sent events for `Accept: text/event-stream` (an `end` event closes the stream).',
    auth: 'bearer',
    params: sessionId,
    query: SessionLogQuerySchema,
    responses: {
      200: { description: 'The log (text), or its lines as they come (follow).', body: mediaBody('text/plain', 'application/x-ndjson', 'text/event-stream') },
      404: refusal('No such session, or no log (yet): the message says why.'),
    },
  },
  sessionChanges: {
    method: 'get',
    path: `${API}/sessions/{id}/changes`,
    tag: 'sessions',
    summary: 'What a session changed',
    description: 'The unified diff of what it changed in its git workspace (base..head); `changes` in its view sums it up.',
    auth: 'bearer',
    params: sessionId,
    responses: {
      200: { description: 'The diff.', body: mediaBody('text/x-diff') },
      404: refusal('No such session, or it changed nothing (yet).'),
    },
  },
  getSessionOutput: {
    method: 'get',
    path: `${API}/sessions/{id}/output`,
    tag: 'sessions',
    summary: "A session's output",
    description: 'Its exit code and the files the agent wrote to /hub/output/ (and those not kept, with why).',
    auth: 'bearer',
    params: sessionId,
    responses: {
      200: { description: 'The output listing.', body: jsonBody(SessionOutputSchema) },
      404: refusal('No such session, or no output (yet).'),
    },
  },
  readOutputFile: {
    method: 'get',
    path: `${API}/sessions/{id}/output/files/{path}`,
    tag: 'sessions',
    summary: 'One output file',
    description: 'A file of the output listing, by its path (which may hold `/`); served with a type from its extension.',
    auth: 'bearer',
    params: { ...sessionId, path: z.string().min(1).max(4096) },
    spanningParam: 'path',
    responses: {
      200: { description: 'The file.', body: mediaBody('*/*') },
      404: refusal('No such session, or no such file in its output.'),
    },
  },

  // ---- orchestrations ----------------------------------------------------------------------------
  createOrchestration: {
    method: 'post',
    path: `${API}/orchestrations`,
    tag: 'orchestrations',
    summary: 'Create an orchestration',
    description:
      'A DAG of sessions naming their dependencies by name. A cycle, an unknown or self dependency, or a duplicate name is a 400 naming them, and nothing is stored.',
    auth: 'bearer',
    body: jsonBody(CreateOrchestrationRequestSchema),
    responses: { 201: { description: 'The orchestration with its first sessions, as reading it answers.', body: jsonBody(OrchestrationViewSchema) } },
  },
  listOrchestrations: {
    method: 'get',
    path: `${API}/orchestrations`,
    tag: 'orchestrations',
    summary: 'List orchestrations',
    description: 'Newest first, a page at a time (`nextCursor` → `cursor`); `status` takes one or several, comma-separated.',
    auth: 'bearer',
    query: ListOrchestrationsQuerySchema,
    responses: { 200: { description: 'A page of orchestrations (without their sessions).', body: jsonBody(OrchestrationPageSchema) } },
  },
  getOrchestration: {
    method: 'get',
    path: `${API}/orchestrations/{id}`,
    tag: 'orchestrations',
    summary: 'Read an orchestration',
    description:
      'Its status, counts and sessions in the order declared, read at one instant: at most `limit` sessions (fewer past 512 KiB), `nextCursor` reads on. `?wait=terminal|result&timeoutSeconds=n` holds the answer until it has ended (`terminal`) or its result is recorded (`result`), or answers it as it is at the timeout (header `Hub-Wait`).',
    auth: 'bearer',
    params: orchestrationId,
    query: GetOrchestrationQuerySchema,
    responses: {
      200: { description: 'The orchestration and a page of its sessions.', body: jsonBody(OrchestrationViewSchema), headers: waitHeader },
      404: refusal('No such orchestration.'),
    },
  },
  orchestrationChanges: {
    method: 'get',
    path: `${API}/orchestrations/{id}/changes`,
    tag: 'orchestrations',
    summary: 'What an orchestration produced',
    description: 'The unified diff of its combined result (`result` in its view), once every session ended.',
    auth: 'bearer',
    params: orchestrationId,
    responses: {
      200: { description: 'The diff.', body: mediaBody('text/x-diff') },
      404: refusal('No such orchestration, or no result: the message says why.'),
    },
  },
  startOrchestration: {
    method: 'post',
    path: `${API}/orchestrations/{id}/start`,
    tag: 'orchestrations',
    summary: 'Start an orchestration',
    description: 'Starts every session; each still waits for its dependencies.',
    auth: 'bearer',
    params: orchestrationId,
    responses: {
      202: { description: 'Its summary.', body: jsonBody(OrchestrationSummarySchema) },
      404: refusal('No such orchestration.'),
      409: refusal('It has ended.'),
    },
  },
  cancelOrchestration: {
    method: 'post',
    path: `${API}/orchestrations/{id}/cancel`,
    tag: 'orchestrations',
    summary: 'Cancel an orchestration',
    description: 'Stops its running containers (SIGTERM, then SIGKILL after the grace period) and ends every other session `cancelled`.',
    auth: 'bearer',
    params: orchestrationId,
    responses: {
      202: { description: 'Its summary.', body: jsonBody(OrchestrationSummarySchema) },
      404: refusal('No such orchestration.'),
    },
  },
  deleteOrchestration: {
    method: 'delete',
    path: `${API}/orchestrations/{id}`,
    tag: 'orchestrations',
    summary: 'Delete an ended orchestration',
    description:
      'Deletes an orchestration whose every session has ended, with its sessions; their logs, output files and changes, and its combined result, are removed from the object store soon after.',
    auth: 'bearer',
    scope: 'write',
    params: orchestrationId,
    responses: {
      200: { description: 'What was deleted.', body: jsonBody(DeletedOrchestrationSchema) },
      404: refusal('No such orchestration.'),
      409: refusal('Some of its sessions are on their way: the message names them.'),
    },
  },
  updateOrchestration: {
    method: 'patch',
    path: `${API}/orchestrations/{id}`,
    tag: 'orchestrations',
    summary: "Change an orchestration's budget",
    description:
      'Replaces its budget (`null` removes it). Sessions already skipped for the budget stay skipped: `retry` runs them under the new one.',
    auth: 'bearer',
    params: orchestrationId,
    body: jsonBody(UpdateOrchestrationRequestSchema),
    responses: {
      200: { description: 'Its summary, with what is spent and left.', body: jsonBody(OrchestrationSummarySchema) },
      404: refusal('No such orchestration.'),
    },
  },
  retryOrchestration: {
    method: 'post',
    path: `${API}/orchestrations/{id}/retry`,
    tag: 'orchestrations',
    summary: 'Retry an orchestration',
    description: 'Runs its failed, timed-out, cancelled and skipped sessions again; completed ones keep their results.',
    auth: 'bearer',
    params: orchestrationId,
    responses: {
      202: { description: 'Its summary.', body: jsonBody(OrchestrationSummarySchema) },
      404: refusal('No such orchestration.'),
      409: refusal('A session is on its way, or none is to run again.'),
    },
  },

  usageSummary: {
    method: 'get',
    path: `${API}/usage`,
    tag: 'orchestrations',
    summary: 'What was spent, per API key',
    description:
      "What the tenant's orchestrations spent (tokens by kind, and dollars: null when no agent reported a cost), those created since `since` when given: in total, and per API key that created them, most tokens first (`key` null: made before Hub recorded it). Past 200 keys, the rest are summed in `others`.",
    auth: 'bearer',
    query: UsageSummaryQuerySchema,
    responses: { 200: { description: 'The sums.', body: jsonBody(UsageSummarySchema) } },
  },

  // ---- runners -----------------------------------------------------------------------------------
  listRunners: {
    method: 'get',
    path: `${API}/runners`,
    tag: 'health',
    summary: 'List the runners',
    description:
      "Every runner the registry knows, from their heartbeats: `alive`, or `lost` (no heartbeat for longer than its lease grace, HUB_RUNNER_LEASE_GRACE_SECONDS: the sessions it held went back to `ready` for other runners), its labels, slots in use, when it was last seen and how many sessions it holds. Runners of every tenant's sessions: no session is named.",
    auth: 'bearer',
    responses: { 200: { description: 'The runners.', body: jsonBody(RunnerListSchema) } },
  },

  // ---- events ------------------------------------------------------------------------------------
  streamEvents: {
    method: 'get',
    path: `${API}/events`,
    tag: 'events',
    summary: "Hub's events, live",
    description:
      'Server-sent events: each has `id` (its sequence in the event stream), `event` (its subject, e.g. `session.status-changed`) and `data` (the event, `{ id, subject, occurredAt, data }`; docs/events.md lists them). Filters must all match. `Last-Event-ID` (or `after`) resumes after that event; comments keep a quiet stream open.',
    auth: 'bearer',
    query: LiveEventsQuerySchema,
    headers: { 'Last-Event-ID': { description: 'Resume after this event (sent again by an EventSource that reconnects).', schema: z.string() } },
    responses: {
      200: { description: 'The events, as they happen.', body: mediaBody('text/event-stream') },
      404: refusal('No such orchestration or session.'),
      503: refusal("Hub's event stream cannot be read."),
    },
  },

  // ---- notifications -----------------------------------------------------------------------------
  listNotificationDeliveries: {
    method: 'get',
    path: `${API}/notifications/deliveries`,
    tag: 'notifications',
    summary: 'List webhook deliveries',
    description:
      'What became of each notification sent to a webhook the operator configured (HUB_WEBHOOKS): status, attempts, last status code and error, next attempt. Newest first, a page at a time (`nextCursor` → `cursor`); `status` and `kind` take one or several, comma-separated. Neither the body sent nor anything secret is shown.',
    auth: 'bearer',
    scope: 'admin',
    query: ListNotificationDeliveriesQuerySchema,
    responses: { 200: { description: 'A page of deliveries.', body: jsonBody(NotificationDeliveryPageSchema) } },
  },

  // ---- API keys and the audit log ----------------------------------------------------------------
  createApiKey: {
    method: 'post',
    path: `${API}/keys`,
    tag: 'keys',
    summary: 'Create an API key',
    description:
      "A key with a name (unique among keys not revoked), a scope (`read`, `write` or `admin`) and a tenant (default: the creating key's). Its `token` is in this answer only: Hub keeps a hash of it, never the token.",
    auth: 'bearer',
    scope: 'admin',
    body: jsonBody(CreateApiKeyRequestSchema),
    responses: {
      201: { description: 'The key, with its token (shown this once).', body: jsonBody(CreatedApiKeySchema) },
      409: refusal('A key not revoked has that name.'),
    },
  },
  listApiKeys: {
    method: 'get',
    path: `${API}/keys`,
    tag: 'keys',
    summary: 'List API keys',
    description: 'Every tenant\'s keys (or `tenant`\'s), revoked ones too, newest first, a page at a time (`nextCursor` → `cursor`). Never a token.',
    auth: 'bearer',
    scope: 'admin',
    query: ListApiKeysQuerySchema,
    responses: { 200: { description: 'A page of keys.', body: jsonBody(ApiKeyPageSchema) } },
  },
  revokeApiKey: {
    method: 'post',
    path: `${API}/keys/{id}/revoke`,
    tag: 'keys',
    summary: 'Revoke an API key',
    description: 'Its next request is refused (401); revoking a revoked key changes nothing.',
    auth: 'bearer',
    scope: 'admin',
    params: { id: ApiKeyIdSchema },
    responses: {
      200: { description: 'The key, revoked.', body: jsonBody(ApiKeySchema) },
      404: refusal('No such key.'),
    },
  },
  listAudit: {
    method: 'get',
    path: `${API}/audit`,
    tag: 'keys',
    summary: 'Read the audit log',
    description:
      'Who (the key\'s name and tenant) created, started, cancelled, re-ran, continued, retried, changed or deleted what, and which keys were created and revoked: newest first, every tenant\'s (or `tenant`\'s), a page at a time (`nextCursor` → `cursor`).',
    auth: 'bearer',
    scope: 'admin',
    query: ListAuditQuerySchema,
    responses: { 200: { description: 'A page of entries.', body: jsonBody(AuditPageSchema) } },
  },

  // ---- probes ------------------------------------------------------------------------------------
  liveness: {
    method: 'get',
    path: '/health/live',
    tag: 'health',
    summary: 'Liveness',
    description: 'The gateway process serves requests.',
    auth: 'none',
    responses: { 200: { description: 'Alive.', body: jsonBody(LivenessSchema) } },
  },
  metrics: {
    method: 'get',
    path: '/metrics',
    tag: 'health',
    summary: "The gateway's Prometheus metrics",
    description:
      'Prometheus text format: HTTP requests by route and code, and the process. The other services serve theirs on their own loopback ports (HUB_METRICS_PORT; docs/metrics.md).',
    auth: 'none',
    responses: { 200: { description: 'The metrics.', body: mediaBody('text/plain') } },
  },
  readiness: {
    method: 'get',
    path: '/health/ready',
    tag: 'health',
    summary: 'Readiness',
    description: 'Whether Hub can serve requests: PostgreSQL, NATS/JetStream, Docker and the images, each with what is wrong and how to fix it.',
    auth: 'none',
    responses: {
      200: { description: 'Every check passed.', body: jsonBody(ReadinessReportSchema) },
      503: { description: 'A check failed.', body: jsonBody(ReadinessReportSchema) },
    },
  },

  // ---- other protocols ---------------------------------------------------------------------------
  claudeHubWebhook: {
    method: 'post',
    path: '/api/webhooks/claude',
    tag: 'claude-hub',
    summary: "claude-hub's webhook",
    description:
      "claude-hub's request shapes (`type`: session.create, session.start, session.get, session.list, session.output, orchestrate, orchestration.create), answered in claude-hub's envelope, so its clients (mcp-claude-hub) work against Hub unchanged. See docs/claude-hub-compat.md.",
    auth: 'bearer',
    // Each request type checks its own: the reads need read, the others write.
    scope: 'read',
    body: { mediaTypes: ['application/json'], loose: z.looseObject({ type: z.string() }) },
    responses: {
      200: { description: "Handled: claude-hub's envelope, `{ message, event, handlerCount, results }`.", body: claudeHubEnvelope },
      207: { description: 'The handler failed (`results[0].success` is false, `error` says why), in the same envelope.', body: claudeHubEnvelope },
      403: { description: "The key's scope does not allow this request type (session.get, session.list and session.output need read, the others write), in the same envelope.", body: claudeHubEnvelope },
      400: { description: 'No or an unknown `type`, in the same envelope.', body: claudeHubEnvelope },
    },
  },
  mcp: {
    method: 'post',
    path: '/mcp',
    tag: 'mcp',
    summary: 'MCP over streamable HTTP',
    description:
      "JSON-RPC 2.0 over HTTP: Hub's MCP tools (docs/mcp.md), stateless (no MCP session), answered in plain JSON.",
    auth: 'bearer',
    // Each tool checks its own: those whose annotations say readOnlyHint need read, the others write.
    scope: 'read',
    body: { mediaTypes: ['application/json'], loose: JsonRpcMessageSchema },
    responses: {
      200: { description: 'The JSON-RPC response.', body: { mediaTypes: ['application/json'], loose: JsonRpcMessageSchema } },
      202: { description: 'A notification or a response was accepted (no body).' },
    },
  },
  mcpStream: {
    method: 'get',
    path: '/mcp',
    tag: 'mcp',
    summary: 'MCP server stream (not offered)',
    description: 'A stream of server-initiated messages needs an MCP session, which this stateless endpoint does not keep.',
    auth: 'bearer',
    responses: { 405: { description: 'A JSON-RPC error saying so.', body: { mediaTypes: ['application/json'], loose: JsonRpcMessageSchema } } },
  },
  mcpEnd: {
    method: 'delete',
    path: '/mcp',
    tag: 'mcp',
    summary: 'End an MCP session (not offered)',
    description: 'There are no MCP sessions to end.',
    auth: 'bearer',
    scope: 'read',
    responses: { 405: { description: 'A JSON-RPC error saying so.', body: { mediaTypes: ['application/json'], loose: JsonRpcMessageSchema } } },
  },
  gitAdvertiseRefs: {
    method: 'get',
    path: '/git/{repository}/info/refs',
    tag: 'git',
    summary: 'git fetch: the refs',
    description:
      "The first request of `git fetch` from Hub (git's smart HTTP protocol, read-only): an orchestration's repository, with every session branch and its result. Git gives the token as the password (any user name) or as a bearer header.",
    auth: 'git',
    params: gitRepository,
    query: z.strictObject({ service: z.literal('git-upload-pack') }),
    responses: {
      200: { description: "git's ref advertisement.", body: mediaBody('application/x-git-upload-pack-advertisement') },
      403: refusal('`service=git-receive-pack`: Hub serves its repositories read-only.'),
      404: refusal('No such orchestration, or not the smart protocol.'),
    },
  },
  gitUploadPack: {
    method: 'post',
    path: '/git/{repository}/git-upload-pack',
    tag: 'git',
    summary: 'git fetch: the pack',
    description: 'The second request of `git fetch`: git says what it wants and has, and gets a pack.',
    auth: 'git',
    scope: 'read',
    params: gitRepository,
    body: mediaBody('application/x-git-upload-pack-request'),
    responses: {
      200: { description: "git's pack.", body: mediaBody('application/x-git-upload-pack-result') },
      404: refusal('No such repository (a fetch starts with info/refs).'),
    },
  },
  gitReceivePack: {
    method: 'post',
    path: '/git/{repository}/git-receive-pack',
    tag: 'git',
    summary: 'git push (refused)',
    description: 'Hub serves its repositories read-only (any method on this path is refused).',
    auth: 'git',
    scope: 'read',
    params: gitRepository,
    responses: { 403: refusal('git push is not served.') },
  },

  // ---- the dashboard -----------------------------------------------------------------------------
  dashboard: dashboardPage(
    DASHBOARD_PAGE_PATHS.sessions,
    'The dashboard: sessions',
    'The sessions list, newest first, a page at a time, updated live; its filters stay in the query (`status`, `type`, `orchestration`, `q`, `cursor`, `limit`).',
  ),
  dashboardOrchestrations: dashboardPage(DASHBOARD_PAGE_PATHS.orchestrations, 'The dashboard: orchestrations', 'The orchestrations, newest first, with their counts per status.'),
  dashboardOrchestration: {
    ...dashboardPage(
      DASHBOARD_PAGE_PATHS.orchestration,
      'The dashboard: an orchestration',
      'Its DAG drawn as a graph, each session coloured by status, updated live; counts per status; cancel and retry; its changes.',
    ),
    params: orchestrationId,
  },
  dashboardSession: {
    ...dashboardPage(
      DASHBOARD_PAGE_PATHS.session,
      'The dashboard: a session',
      'Its log, followed live while it runs, and every attempt\'s; its output files; why it ended, its attempts, timings and dependencies; cancel and re-run.',
    ),
    params: sessionId,
  },
  dashboardHealth: dashboardPage(DASHBOARD_PAGE_PATHS.health, 'The dashboard: health', "Readiness checks (what is wrong and how to fix it) and the runner's slots."),

  // ---- the API's description ---------------------------------------------------------------------
  openApiDocument: {
    method: 'get',
    path: OPENAPI_DOCUMENT_PATH,
    tag: 'docs',
    summary: 'This document',
    description: 'OpenAPI 3.1, generated from the contracts. No token: it holds no data.',
    auth: 'none',
    responses: { 200: { description: 'The OpenAPI document.', body: mediaBody('application/json') } },
  },
  apiDocs: {
    method: 'get',
    path: API_DOCS_PATH,
    tag: 'docs',
    summary: 'This document, to read',
    description: 'A page that renders the OpenAPI document (Swagger UI, served by the gateway: nothing is loaded from elsewhere). No token: it holds no data.',
    auth: 'none',
    responses: { 200: { description: 'The page.', body: mediaBody('text/html') } },
  },
});
