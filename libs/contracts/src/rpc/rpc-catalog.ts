import { z } from 'zod';
import {
  ChangeSummarySchema,
  ContinueSessionCommandSchema,
  CreateSessionRequestSchema,
  DeletedSessionSchema,
  ListSessionsQuerySchema,
  OutputFileSchema,
  SessionIdSchema,
  SessionPageSchema,
  SessionRefSchema,
  SessionViewSchema,
} from '../sessions/session.schemas';
import { SessionStatusSchema } from '../sessions/session-status';
import {
  CreateOrchestrationRequestSchema,
  DeletedOrchestrationSchema,
  GetOrchestrationRequestSchema,
  ListOrchestrationsQuerySchema,
  OrchestrationPageSchema,
  OrchestrationRefSchema,
  OrchestrationSummarySchema,
  OrchestrationViewSchema,
  UpdateOrchestrationCommandSchema,
} from '../orchestrations/orchestration.schemas';
import { ListNotificationDeliveriesQuerySchema, NotificationDeliveryPageSchema } from '../notifications/notification.schemas';
import { HealthReportSchema } from './health.schemas';
import {
  ApiKeyPageSchema,
  ApiKeyRefSchema,
  ApiKeySchema,
  AuditPageSchema,
  CreateApiKeyRequestSchema,
  CreatedApiKeySchema,
  ListApiKeysQuerySchema,
  ListAuditQuerySchema,
  VerifyApiKeyRequestSchema,
  VerifyApiKeyResponseSchema,
} from '../auth/api-keys.schemas';
import type { Scope } from '../auth/caller';
import { UsageSummaryQuerySchema, UsageSummarySchema } from '../usage/usage.schemas';
import { RunnerListSchema } from '../runners/runner-view.schemas';

/** One dependency, as a dependent receives it; the runner reads its files' list from its manifest in the object store. */
export const SessionInputSchema = z.object({
  /** Directory name under /hub/inputs/: the dependency's name, or its id when it has none. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/),
  sessionId: z.string(),
});
export type SessionInput = z.infer<typeof SessionInputSchema>;

const SessionStatusesRequestSchema = z.strictObject({ sessionIds: z.array(SessionIdSchema).max(10_000) });
const SessionStatusesResponseSchema = z.object({ statuses: z.array(z.object({ sessionId: z.string(), status: SessionStatusSchema })) });

/** What a runner needs to run a session it has claimed. Secrets are not in it: runners hold those. */
export const SessionSpecSchema = z.object({
  sessionId: z.string(),
  orchestrationId: z.string(),
  /** Its name and its orchestration's: the branch its changes are captured on is `hub/<orchestration>/<session>`. */
  name: z.string().nullable(),
  orchestrationName: z.string(),
  type: z.string(),
  prompt: z.string(),
  /** Given to the agent at /hub/context, when the session has one. */
  context: z.string().nullable().default(null),
  image: z.string(),
  repository: z.string().nullable(),
  branch: z.string().nullable(),
  timeoutSeconds: z.number().int(),
  attempt: z.number().int().min(1),
  /** The session type's preamble (HUB_PROMPT_PREAMBLE), from the registry's templates; may be empty. */
  preamble: z.string(),
  /**
   * Each dependency, in the order the session declared them: its outputs are mounted read-only at
   * /hub/inputs/<name>/, and its captured changes are merged into the workspace in this order.
   */
  inputs: z.array(SessionInputSchema),
  /**
   * The destinations the session asked to reach (`host:port`), within its image's allowance; null:
   * its image's allowance (HUB_EGRESS, read again by the runner, which enforces it).
   */
  egress: z.array(z.string()).nullable().default(null),
  /**
   * When it continues another session (`POST /sessions/:id/continue`): that session's input name
   * (one of `inputs`), whose output holds the agent's conversation to resume (HUB_CONTINUE_FROM).
   */
  continueFrom: z.string().nullable().default(null),
});
export type SessionSpec = z.infer<typeof SessionSpecSchema>;

/** What a runner needs to adopt a session it held before it restarted: bounded (no prompt, no inputs). */
export const HeldSessionSchema = z.object({
  sessionId: z.string(),
  orchestrationId: z.string(),
  image: z.string(),
  timeoutSeconds: z.number().int(),
  attempt: z.number().int().min(1),
  status: SessionStatusSchema,
  startedAt: z.string().nullable(),
  /** When its status last changed: a session claimed moments ago may not have its container yet. */
  changedAt: z.string(),
  /** A cancel was asked for: a runner adopting the session stops its container (cause cancelled). */
  cancelRequested: z.boolean(),
});
export type HeldSession = z.infer<typeof HeldSessionSchema>;

/** Ready sessions that require one set of runner labels: how many, and since when the longest has been ready. */
export const ReadyLabelSetSchema = z.object({
  labels: z.array(z.string()),
  sessions: z.number().int().min(1),
  readySince: z.string().nullable(),
});
export type ReadyLabelSet = z.infer<typeof ReadyLabelSetSchema>;
/** The most label sets the ready-labels answer lists. */
export const READY_LABEL_SETS = 100;

/** Page size of the held-sessions answer: a runner with many slots reads its sessions in pages. */
export const HELD_SESSIONS_PAGE = 200;

/** A session's output status as the registry knows it; the gateway adds the file list from the manifest. */
export const SessionOutputSummarySchema = z.object({
  sessionId: z.string(),
  status: SessionStatusSchema,
  exitCode: z.number().int().nullable(),
  /** Whether the runner reported the output (a manifest exists in the object store). */
  reported: z.boolean(),
  /** Output files recorded before manifests existed (older sessions), at most LEGACY_FILES_LISTED. */
  legacyFiles: z.array(OutputFileSchema),
  /** What it changed in its git workspace, when it changed anything. */
  changes: ChangeSummarySchema.nullable().default(null),
});
export type SessionOutputSummary = z.infer<typeof SessionOutputSummarySchema>;
export const LEGACY_FILES_LISTED = 1000;

/** The services that answer request subjects. */
export type RpcResponder = 'session-registry' | 'dependency-resolver' | 'container-runner';
/** The services that send requests (the bus lets each send only those its catalog entries name). */
export type RpcCaller = 'gateway' | 'dependency-resolver' | 'container-runner';

/**
 * How long a caller waits for an answer, in milliseconds; past it, the call fails as `unavailable`
 * naming the responder. Each catalog entry names one of these.
 */
export const RPC_TIMEOUTS = {
  /** Commands and queries on one session, and paged lists. */
  default: 10_000,
  /** Writes on a whole orchestration: thousands of sessions in one transaction. */
  orchestration: 30_000,
  /** Health checks: a readiness probe must not hang. */
  health: 2_000,
} as const;

export interface RpcDefinition {
  description: string;
  /** Validated by the responder. */
  request: z.ZodType;
  /** Validated by the caller. */
  response: z.ZodType;
  /** The one service that answers (its queue group). */
  respondedBy: RpcResponder;
  /** The services that call it: the bus refuses the request from any other. */
  calledBy: readonly RpcCaller[];
  /** How long a caller waits for the answer (RpcClient). */
  timeoutMs: number;
  /**
   * Asked by the gateway for no one in particular: a health probe, or the check of credentials that
   * tells who the caller is. Every other subject the gateway calls carries its caller (requiresCaller).
   */
  anonymous?: true;
  /**
   * The least scope its caller needs (default `read`): the registry refuses a caller with less
   * (`forbidden`), after the gateway refused it already by the HTTP route's scope.
   */
  scope?: Scope;
  /** A write the registry records in its audit log once it succeeded: who (the caller's key), what, on what. */
  audited?: true;
}

/**
 * Request/reply subjects (core NATS, not JetStream): commands and queries that need an answer.
 * Each has a request schema, validated by the responder, and a response schema, validated by the
 * caller; the service that answers it, and how long a caller waits. Callers never pass a timeout.
 */
export const RPC_CATALOG = {
  'hub.registry.sessions.create': {
    description: 'Record a session (and start it if `start`).',
    request: CreateSessionRequestSchema,
    response: SessionViewSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
    scope: 'write',
    audited: true,
  },
  'hub.registry.sessions.start': {
    description: 'Ask a session (and the sessions it depends on) to start.',
    request: SessionRefSchema,
    response: SessionViewSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
    scope: 'write',
    audited: true,
  },
  'hub.registry.sessions.cancel': {
    description: 'Cancel a session; a running one gets `session.cancel-requested`.',
    request: SessionRefSchema,
    response: SessionViewSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
    scope: 'write',
    audited: true,
  },
  'hub.registry.sessions.get': {
    description: 'One session.',
    request: SessionRefSchema,
    response: SessionViewSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.sessions.list': {
    description: 'Sessions, newest first, filtered and keyset-paginated.',
    request: ListSessionsQuerySchema,
    response: SessionPageSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.sessions.output': {
    description: "A session's exit code and whether its output was reported (the file list is its manifest, in the object store).",
    request: SessionRefSchema,
    response: SessionOutputSummarySchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.sessions.rerun': {
    description:
      'Run an ended session again (any end, completed included), with its dependents that did not complete ' +
      '(transitively through those): each waits for its dependencies again, with a fresh retry budget.',
    request: SessionRefSchema,
    response: SessionViewSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.orchestration,
    scope: 'write',
    audited: true,
  },
  'hub.registry.sessions.continue': {
    description:
      "Continue a completed session: a new session of its orchestration that depends on it (its changes and output, " +
      "where the agent's conversation is) and resumes its conversation with a new prompt.",
    request: ContinueSessionCommandSchema,
    response: SessionViewSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
    scope: 'write',
    audited: true,
  },
  'hub.registry.sessions.delete': {
    description:
      'Delete an ended session that no session depends on, with its attempts (a runner removes its outputs: `session.deleted`); ' +
      'its orchestration too when it was the last. Conflict, saying why, while it has not ended or others depend on it.',
    request: SessionRefSchema,
    response: DeletedSessionSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
    scope: 'write',
    audited: true,
  },
  'hub.registry.sessions.claim': {
    description: 'A runner claims a ready session (ready → starting, atomic) and gets what it needs to run it.',
    request: z.strictObject({ sessionId: SessionIdSchema, runnerId: z.string().min(1) }),
    response: z.object({ claimed: z.boolean(), spec: SessionSpecSchema.nullable() }),
    respondedBy: 'session-registry',
    calledBy: ['container-runner'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.sessions.held': {
    description:
      "The sessions a runner holds (starting or running, claimed by it): what it reconciles its containers against. " +
      'Paged by session id (`after`), HELD_SESSIONS_PAGE at a time.',
    request: z.strictObject({ runnerId: z.string().min(1), after: SessionIdSchema.optional() }),
    response: z.object({ sessions: z.array(HeldSessionSchema).max(HELD_SESSIONS_PAGE), nextAfter: z.string().nullable() }),
    respondedBy: 'session-registry',
    calledBy: ['container-runner'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.sessions.waiting': {
    description: 'Sessions waiting for their dependencies, with the status of each (the resolver re-checks them periodically).',
    request: z.strictObject({ limit: z.number().int().min(1).max(10_000) }),
    response: z.object({
      sessions: z.array(
        z.object({
          sessionId: z.string(),
          /** Which run of it is waiting (1, then one more per re-run): part of the decision's event id. */
          run: z.number().int().min(1).default(1),
          dependencies: z.array(z.object({ sessionId: z.string(), status: SessionStatusSchema })),
        }),
      ),
    }),
    respondedBy: 'session-registry',
    calledBy: ['dependency-resolver'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.sessions.ready-labels': {
    description:
      'The runner labels ready sessions require: each set of labels (runnerLabels, sorted) with how many ready sessions require it ' +
      'and since when the longest has waited, at most READY_LABEL_SETS sets, the most waited-for first (a runner asks, for its readiness check).',
    request: z.strictObject({}),
    response: z.object({ labelSets: z.array(ReadyLabelSetSchema).max(READY_LABEL_SETS) }),
    respondedBy: 'session-registry',
    calledBy: ['container-runner'],
    timeoutMs: RPC_TIMEOUTS.health,
  },
  'hub.registry.sessions.statuses': {
    description: "The statuses of some of the caller's sessions (a claude-hub client's dependencies); others are not listed.",
    request: SessionStatusesRequestSchema,
    response: SessionStatusesResponseSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.dependencies.statuses': {
    description: 'The statuses of some sessions, whatever their tenant (the resolver asks, about dependencies).',
    request: SessionStatusesRequestSchema,
    response: SessionStatusesResponseSchema,
    respondedBy: 'session-registry',
    calledBy: ['dependency-resolver'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.sessions.dependents': {
    description: 'The sessions waiting on one session, with their dependencies (the resolver asks).',
    request: z.strictObject({ sessionId: SessionIdSchema }),
    response: z.object({
      dependents: z.array(
        z.object({
          sessionId: z.string(),
          status: SessionStatusSchema,
          run: z.number().int().min(1).default(1),
          dependencies: z.array(z.object({ sessionId: z.string(), status: SessionStatusSchema })),
        }),
      ),
    }),
    respondedBy: 'session-registry',
    calledBy: ['dependency-resolver'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.orchestrations.create': {
    description: 'Record an orchestration and its sessions (and start them if `start`).',
    request: CreateOrchestrationRequestSchema,
    response: OrchestrationSummarySchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.orchestration,
    scope: 'write',
    audited: true,
  },
  'hub.registry.orchestrations.get': {
    description:
      'An orchestration (counts per status, its aggregate status) with a page of its sessions in the order declared, ' +
      'read in one snapshot so the two agree; at most ORCHESTRATION_VIEW_SESSIONS sessions and ORCHESTRATION_VIEW_MAX_BYTES.',
    request: GetOrchestrationRequestSchema,
    response: OrchestrationViewSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.orchestrations.read': {
    description: 'An orchestration with a page of its sessions, as `orchestrations.get` answers it, whatever its tenant (a runner combining its result asks).',
    request: GetOrchestrationRequestSchema,
    response: OrchestrationViewSchema,
    respondedBy: 'session-registry',
    calledBy: ['container-runner'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.orchestrations.list': {
    description: 'Orchestrations, newest first.',
    request: ListOrchestrationsQuerySchema,
    response: OrchestrationPageSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.orchestrations.start': {
    description: 'Start every session of an orchestration not yet started.',
    request: OrchestrationRefSchema,
    response: OrchestrationSummarySchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.orchestration,
    scope: 'write',
    audited: true,
  },
  'hub.registry.orchestrations.cancel': {
    description: 'Cancel an orchestration.',
    request: OrchestrationRefSchema,
    response: OrchestrationSummarySchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.orchestration,
    scope: 'write',
    audited: true,
  },
  'hub.registry.orchestrations.retry': {
    description:
      'Run an ended orchestration again where it did not complete: its failed, timed-out, cancelled and skipped sessions ' +
      'wait for their dependencies again (completed ones keep their results); conflict when it has not ended or nothing is to re-run.',
    request: OrchestrationRefSchema,
    response: OrchestrationSummarySchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.orchestration,
    scope: 'write',
    audited: true,
  },
  'hub.registry.orchestrations.delete': {
    description:
      'Delete an orchestration whose every session has ended, with its sessions (a runner removes their outputs and its result: ' +
      '`orchestration.deleted`); conflict naming the sessions still on their way.',
    request: OrchestrationRefSchema,
    response: DeletedOrchestrationSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.orchestration,
    scope: 'write',
    audited: true,
  },
  'hub.registry.orchestrations.update': {
    description: "Change an orchestration's budget; the answer shows what is spent and left under the new one.",
    request: UpdateOrchestrationCommandSchema,
    response: OrchestrationSummarySchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
    scope: 'write',
    audited: true,
  },
  'hub.registry.usage.summary': {
    description:
      "What the caller's tenant's orchestrations spent (those created since `since`, when given): in total and per API key " +
      'that created them, the 200 (USAGE_SUMMARY_KEYS) that spent most listed, the rest summed.',
    request: UsageSummaryQuerySchema,
    response: UsageSummarySchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
  },
  'hub.registry.notifications.deliveries': {
    description: 'Webhook deliveries, newest first, filtered and keyset-paginated: what became of each, without its body or anything secret.',
    request: ListNotificationDeliveriesQuerySchema,
    response: NotificationDeliveryPageSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
    scope: 'admin',
  },
  'hub.registry.keys.create': {
    description: 'Create an API key (admin): its view and its token, which is shown this once; only a hash of its secret is kept.',
    request: CreateApiKeyRequestSchema,
    response: CreatedApiKeySchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
    scope: 'admin',
    audited: true,
  },
  'hub.registry.keys.list': {
    description: 'API keys of every tenant, or of one (admin), newest first, revoked ones too; never a token or a hash.',
    request: ListApiKeysQuerySchema,
    response: ApiKeyPageSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
    scope: 'admin',
  },
  'hub.registry.keys.revoke': {
    description: 'Revoke an API key (admin): refused from its next request on. Revoking a revoked key changes nothing.',
    request: ApiKeyRefSchema,
    response: ApiKeySchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
    scope: 'admin',
    audited: true,
  },
  'hub.registry.keys.verify': {
    description: "Who a `hub_` token is (the gateway asks on every request that carries one): its key's caller, or null when unknown or revoked.",
    request: VerifyApiKeyRequestSchema,
    response: VerifyApiKeyResponseSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
    anonymous: true,
  },
  'hub.registry.audit.list': {
    description: 'The audit log (admin): who (key name) did what write on what, newest first, every tenant or one.',
    request: ListAuditQuerySchema,
    response: AuditPageSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.default,
    scope: 'admin',
  },
  'hub.registry.runners.list': {
    description:
      'Every runner the registry knows (its heartbeats, kept in its `runners` table): alive or lost, labels, slots, last seen, the sessions it holds. ' +
      'Asked by readiness (no caller) and by `GET /api/v1/runners` (the route checks the scope); no tenant data.',
    request: z.object({}),
    response: RunnerListSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.health,
    anonymous: true,
  },
  'hub.registry.health': {
    description: "The registry's health (PostgreSQL).",
    request: z.object({}),
    response: HealthReportSchema,
    respondedBy: 'session-registry',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.health,
    anonymous: true,
  },
  'hub.resolver.health': {
    description: "The dependency resolver's health (is it consuming its events).",
    request: z.object({}),
    response: HealthReportSchema,
    respondedBy: 'dependency-resolver',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.health,
    anonymous: true,
  },
  'hub.runner.health': {
    description: "A runner's health (Docker, images, slots).",
    request: z.object({}),
    response: HealthReportSchema,
    respondedBy: 'container-runner',
    calledBy: ['gateway'],
    timeoutMs: RPC_TIMEOUTS.health,
    anonymous: true,
  },
} as const satisfies Record<string, RpcDefinition>;

export type RpcSubject = keyof typeof RPC_CATALOG;
export type RpcRequest<S extends RpcSubject> = z.infer<(typeof RPC_CATALOG)[S]['request']>;
export type RpcResponse<S extends RpcSubject> = z.infer<(typeof RPC_CATALOG)[S]['response']>;

export const RPC = {
  createSession: 'hub.registry.sessions.create',
  startSession: 'hub.registry.sessions.start',
  cancelSession: 'hub.registry.sessions.cancel',
  rerunSession: 'hub.registry.sessions.rerun',
  continueSession: 'hub.registry.sessions.continue',
  deleteSession: 'hub.registry.sessions.delete',
  getSession: 'hub.registry.sessions.get',
  listSessions: 'hub.registry.sessions.list',
  getSessionOutput: 'hub.registry.sessions.output',
  claimSession: 'hub.registry.sessions.claim',
  heldSessions: 'hub.registry.sessions.held',
  waitingSessions: 'hub.registry.sessions.waiting',
  readyLabelSets: 'hub.registry.sessions.ready-labels',
  sessionStatuses: 'hub.registry.sessions.statuses',
  dependencyStatuses: 'hub.registry.dependencies.statuses',
  sessionDependents: 'hub.registry.sessions.dependents',
  createOrchestration: 'hub.registry.orchestrations.create',
  getOrchestration: 'hub.registry.orchestrations.get',
  readOrchestration: 'hub.registry.orchestrations.read',
  listOrchestrations: 'hub.registry.orchestrations.list',
  startOrchestration: 'hub.registry.orchestrations.start',
  cancelOrchestration: 'hub.registry.orchestrations.cancel',
  retryOrchestration: 'hub.registry.orchestrations.retry',
  updateOrchestration: 'hub.registry.orchestrations.update',
  deleteOrchestration: 'hub.registry.orchestrations.delete',
  usageSummary: 'hub.registry.usage.summary',
  notificationDeliveries: 'hub.registry.notifications.deliveries',
  createApiKey: 'hub.registry.keys.create',
  listApiKeys: 'hub.registry.keys.list',
  revokeApiKey: 'hub.registry.keys.revoke',
  verifyApiKey: 'hub.registry.keys.verify',
  listAudit: 'hub.registry.audit.list',
  listRunners: 'hub.registry.runners.list',
  registryHealth: 'hub.registry.health',
  resolverHealth: 'hub.resolver.health',
  runnerHealth: 'hub.runner.health',
} as const satisfies Record<string, RpcSubject>;

export function isRpcSubject(subject: string): subject is RpcSubject {
  return Object.prototype.hasOwnProperty.call(RPC_CATALOG, subject);
}

/**
 * Whether a request must say who asks (the CALLER_HEADER): every subject the gateway calls, but the
 * `anonymous` ones, reads or writes a tenant's data on behalf of an API key. No subject is called both by
 * the gateway and by another service (those have subjects of their own), so a service's internal
 * request can never stand in for a client's.
 */
export function requiresCaller(subject: RpcSubject): boolean {
  const definition: RpcDefinition = RPC_CATALOG[subject];
  return definition.calledBy.includes('gateway') && !definition.anonymous;
}

/** The least scope a caller of `subject` needs (its catalog entry's `scope`, else read). */
export function scopeNeededFor(subject: RpcSubject): Scope {
  const definition: RpcDefinition = RPC_CATALOG[subject];
  return definition.scope ?? 'read';
}

/** The subjects the registry records in its audit log once they succeeded. */
export type AuditedSubject = { [S in RpcSubject]: (typeof RPC_CATALOG)[S] extends { audited: true } ? S : never }[RpcSubject];

export function isAudited(subject: RpcSubject): subject is AuditedSubject {
  const definition: RpcDefinition = RPC_CATALOG[subject];
  return definition.audited === true;
}

/** The request subjects a service answers: what it binds handlers for (runService's `rpc`). */
export function rpcSubjectsAnsweredBy(service: RpcResponder): RpcSubject[] {
  return (Object.keys(RPC_CATALOG) as RpcSubject[]).filter((subject) => RPC_CATALOG[subject].respondedBy === service);
}
