import { z } from 'zod';
import { ChangeSummarySchema, SessionTypeSchema } from '../sessions/session.schemas';
import { EgressTrafficSchema } from '../egress/egress.schemas';
import { SessionStatusSchema } from '../sessions/session-status';
import type { BusService } from '../bus/bus-principals';
import { OrchestrationResultSchema, OrchestrationStatusSchema } from '../orchestrations/orchestration.schemas';
import { MAX_RUNNER_LABELS, RunnerLabelSchema } from '../runners/runner-labels';
import { BUDGET_THRESHOLDS, RateLimitSchema, UsageSchema } from '../usage/usage.schemas';

/**
 * Every event Hub publishes on JetStream: its subject and the schema of its payload.
 * This table is the contract. Publishers validate before they publish, consumers validate
 * on receipt, and docs/events.md is generated from it.
 */
const sessionId = z.uuid();
const orchestrationId = z.uuid();
const isoTime = z.iso.datetime({ offset: true });
/**
 * Which run of the session a decision is about: 1, then one more each time it is re-run. Absent on
 * events from before re-runs existed: the first run.
 */
const run = z.number().int().min(1).optional();

/** Why a container stopped (or never ran). The registry turns it into a final status. */
export const ContainerExitCauseSchema = z.enum([
  'exited',
  'timed_out',
  'cancelled',
  'image_not_found',
  'image_not_allowed',
  'start_failed',
  'container_lost',
  'quota_exceeded',
  'merge_conflict',
]);
export type ContainerExitCause = z.infer<typeof ContainerExitCauseSchema>;

/** At most this many session ids in one `orchestration.deleted`: a larger orchestration's deletion is told in several. */
export const DELETED_SESSIONS_PER_EVENT = 1000;

export interface EventDefinition {
  /** The one service that may publish it (the bus refuses it from any other). */
  publishedBy: BusService;
  /** Who reads it through a durable consumer: a service, or `integrations`, with a note in parentheses. */
  consumedBy: readonly string[];
  /** Services that also watch it live on core NATS (the gateway's ?wait=), beside the stream. */
  watchedBy?: readonly BusService[];
  description: string;
  schema: z.ZodObject;
}

export const EVENT_CATALOG = {
  'session.created': {
    publishedBy: 'session-registry',
    consumedBy: ['integrations'],
    description: 'A session was recorded (status created).',
    schema: z.object({
      sessionId,
      orchestrationId,
      type: SessionTypeSchema,
      image: z.string(),
      dependsOn: z.array(sessionId),
    }),
  },
  'session.start-requested': {
    publishedBy: 'session-registry',
    consumedBy: ['dependency-resolver'],
    description: 'Someone asked a session to start, or to run again (`run` > 1); it is now waiting for its dependencies.',
    schema: z.object({ sessionId, orchestrationId, dependsOn: z.array(sessionId), run }),
  },
  'deps.resolved': {
    publishedBy: 'dependency-resolver',
    consumedBy: ['session-registry'],
    description: 'Every dependency of the session completed: it may start (this run of it: a decision on an earlier run changes nothing).',
    schema: z.object({ sessionId, run }),
  },
  'deps.failed': {
    publishedBy: 'dependency-resolver',
    consumedBy: ['session-registry'],
    description: 'A dependency of the session ended without completing: it must not start.',
    schema: z.object({
      sessionId,
      dependencyId: sessionId,
      dependencyStatus: SessionStatusSchema,
      run,
    }),
  },
  'session.ready': {
    publishedBy: 'session-registry',
    consumedBy: ['container-runner (one durable shared by all runners)'],
    description:
      'The session may start and waits for a runner slot. Runners take work from this subject. ' +
      'A retry carries notBefore: no runner starts it earlier (the backoff). Only a runner with every one of its runnerLabels claims it.',
    schema: z.object({
      sessionId,
      orchestrationId,
      attempt: z.number().int().min(1),
      notBefore: isoTime.nullable(),
      /** Its image: a runner paces the sessions of an image (HUB_IMAGE_PACING, a usage limit) before claiming one. */
      image: z.string().optional(),
      /**
       * The labels a runner must have to claim it (its runnerLabels); a runner without every one hands
       * it back for another. Absent (events from before labels) or empty: any runner.
       */
      runnerLabels: z.array(RunnerLabelSchema).max(MAX_RUNNER_LABELS).optional(),
    }),
  },
  'container.started': {
    publishedBy: 'container-runner',
    consumedBy: ['session-registry'],
    description: "A runner started the session's container.",
    schema: z.object({
      sessionId,
      attempt: z.number().int().min(1),
      containerId: z.string().min(1),
      runnerId: z.string().min(1),
      startedAt: isoTime,
    }),
  },
  'container.exited': {
    publishedBy: 'container-runner',
    consumedBy: ['session-registry'],
    description:
      "The session's container stopped (or could not be started); its log, output files and their manifest are stored " +
      'in the object store. The file list itself never travels on the event: only counts.',
    schema: z.object({
      sessionId,
      attempt: z.number().int().min(1),
      containerId: z.string().nullable(),
      runnerId: z.string().min(1),
      cause: ContainerExitCauseSchema,
      exitCode: z.number().int().nullable(),
      oomKilled: z.boolean(),
      durationMs: z.number().int().nonnegative(),
      detail: z.string().max(2000).nullable(),
      /** Files kept (listed in the session's manifest object), their bytes, and entries not kept. */
      output: z.object({
        files: z.number().int().nonnegative(),
        bytes: z.number().int().nonnegative(),
        skipped: z.number().int().nonnegative(),
      }),
      logBytes: z.number().int().nonnegative(),
      /** Bytes the container printed beyond the runner's log cap: counted, not kept. */
      logDroppedBytes: z.number().int().nonnegative(),
      /** What it changed in its git workspace (the bundle, diff and file list are in the object store); null when nothing. */
      changes: ChangeSummarySchema.nullable().default(null),
      /**
       * What the agent reached, or tried to, through Hub's egress proxy (absent when its session may
       * reach nothing): at most 50 destinations, the rest counted.
       */
      egress: EgressTrafficSchema.optional(),
      /** What the agent reported spending in this attempt (its usage.json), or null when it reported nothing. */
      usage: UsageSchema.nullable().default(null),
      /** The agent was refused by its model's API for a rate or usage limit: run it again once it resets. */
      rateLimit: RateLimitSchema.nullable().default(null),
    }),
  },
  'session.cancel-requested': {
    publishedBy: 'session-registry',
    consumedBy: ['container-runner (every runner)'],
    description:
      'Someone asked to cancel a session that a runner has claimed. The registry also records the request, so a runner ' +
      'that adopts the session later (it was down) honours it.',
    schema: z.object({ sessionId, runnerId: z.string().nullable() }),
  },
  'session.status-changed': {
    publishedBy: 'session-registry',
    consumedBy: ['dependency-resolver', 'session-registry (notifications)', 'integrations'],
    watchedBy: ['gateway'],
    description: 'A session moved from one status to another. Integrations subscribe to this one.',
    schema: z.object({
      sessionId,
      orchestrationId,
      from: SessionStatusSchema,
      to: SessionStatusSchema,
      reason: z.string().nullable(),
      exitCode: z.number().int().nullable(),
      containerId: z.string().nullable(),
      at: isoTime,
    }),
  },
  'session.usage-recorded': {
    publishedBy: 'session-registry',
    consumedBy: ['integrations'],
    description:
      "An attempt's usage was added to its session and orchestration: what the attempt spent, and the totals since.",
    schema: z.object({
      sessionId,
      orchestrationId,
      attempt: z.number().int().min(1),
      usage: UsageSchema,
      sessionTotal: UsageSchema,
      orchestrationTotal: UsageSchema,
    }),
  },
  'session.rate-limited': {
    publishedBy: 'session-registry',
    consumedBy: ['session-registry (notifications)', 'integrations'],
    description:
      "The session's agent hit a rate or usage limit of its model's API: it waits until `resetAt` and runs again " +
      'without spending its retries.',
    schema: z.object({ sessionId, orchestrationId, image: z.string(), attempt: z.number().int().min(1), resetAt: isoTime, message: z.string() }),
  },
  'orchestration.budget-threshold': {
    publishedBy: 'session-registry',
    consumedBy: ['session-registry (notifications)', 'integrations'],
    description:
      'What the orchestration spent crossed a threshold of its budget (80 %, then 100 %: spent), once per threshold and cap.',
    schema: z.object({
      orchestrationId,
      cap: z.enum(['tokens', 'usd']),
      threshold: z.union(BUDGET_THRESHOLDS.map((t) => z.literal(t))),
      spent: z.number().nonnegative(),
      budget: z.number().positive(),
    }),
  },
  'orchestration.finished': {
    publishedBy: 'session-registry',
    consumedBy: ['container-runner (one durable shared by all runners)', 'session-registry (notifications)', 'integrations'],
    watchedBy: ['gateway'],
    description:
      'Every session of the orchestration ended (with the move that ended the last one). A runner then combines the ' +
      "final sessions' changes and, when asked, publishes them.",
    schema: z.object({
      orchestrationId,
      status: OrchestrationStatusSchema,
      publish: z.object({ branch: z.string() }).nullable(),
      at: isoTime,
    }),
  },
  'orchestration.result': {
    publishedBy: 'container-runner',
    consumedBy: ['session-registry'],
    watchedBy: ['gateway'],
    description:
      "A runner combined the orchestration's final changes (stored in the object store) and published them when asked: " +
      'the registry records it in the orchestration.',
    schema: z.object({ orchestrationId, result: OrchestrationResultSchema }),
  },
  'session.deleted': {
    publishedBy: 'session-registry',
    consumedBy: ['container-runner (one durable shared by all runners)', 'integrations'],
    description:
      'An ended session that no session depended on was deleted (`DELETE /api/v1/sessions/{id}`), with its attempts. A runner ' +
      'then removes its logs, output files, manifest and changes from the object store. When it was the last session of its ' +
      'orchestration, `orchestration.deleted` follows.',
    schema: z.object({ sessionId, orchestrationId }),
  },
  'orchestration.deleted': {
    publishedBy: 'session-registry',
    consumedBy: ['container-runner (one durable shared by all runners)', 'integrations'],
    description:
      'An orchestration whose every session had ended was deleted with those sessions: `DELETE /api/v1/orchestrations/{id}`, ' +
      'the deletion of its last session, or retention (HUB_RETENTION_DAYS). A runner then removes the objects of `sessionIds` and ' +
      'its combined result from the object store. An orchestration of more than DELETED_SESSIONS_PER_EVENT (1,000) sessions is ' +
      'told in several of these events, each naming some of them.',
    schema: z.object({ orchestrationId, sessionIds: z.array(sessionId).max(DELETED_SESSIONS_PER_EVENT) }),
  },
} as const satisfies Record<string, EventDefinition>;

export type EventSubject = keyof typeof EVENT_CATALOG;
export const EVENT_SUBJECTS = Object.keys(EVENT_CATALOG) as EventSubject[];

export type EventPayload<S extends EventSubject> = z.infer<(typeof EVENT_CATALOG)[S]['schema']>;

/** What travels on the wire: the payload wrapped with its id (also the JetStream message id). */
export interface EventEnvelope<S extends EventSubject = EventSubject> {
  id: string;
  subject: S;
  occurredAt: string;
  data: EventPayload<S>;
}

/** Any event, discriminated by its subject: `if (event.subject === 'session.status-changed') event.data.to`. */
export type AnyEvent = { [S in EventSubject]: EventEnvelope<S> }[EventSubject];

/** A handler's argument: `EventOf<'container.exited'>`. */
export type EventOf<S extends EventSubject> = EventEnvelope<S>;

export function isEventSubject(subject: string): subject is EventSubject {
  return Object.prototype.hasOwnProperty.call(EVENT_CATALOG, subject);
}

/** Subjects as constants, so that no service writes a subject as a string literal. */
export const EVENTS = {
  sessionCreated: 'session.created',
  sessionStartRequested: 'session.start-requested',
  depsResolved: 'deps.resolved',
  depsFailed: 'deps.failed',
  sessionReady: 'session.ready',
  containerStarted: 'container.started',
  containerExited: 'container.exited',
  sessionCancelRequested: 'session.cancel-requested',
  sessionStatusChanged: 'session.status-changed',
  orchestrationFinished: 'orchestration.finished',
  orchestrationResult: 'orchestration.result',
  sessionUsageRecorded: 'session.usage-recorded',
  sessionRateLimited: 'session.rate-limited',
  orchestrationBudgetThreshold: 'orchestration.budget-threshold',
  sessionDeleted: 'session.deleted',
  orchestrationDeleted: 'orchestration.deleted',
} as const satisfies Record<string, EventSubject>;

/** The JetStream stream that holds every event, and the subjects it captures. */
export const EVENT_STREAM = {
  name: 'HUB_EVENTS',
  subjects: ['session.*', 'deps.*', 'container.*', 'orchestration.*'],
  /** Who reads it beside its publishers and consumers: the gateway, through ephemeral consumers (SSE). */
  readBy: ['gateway'],
} as const;
