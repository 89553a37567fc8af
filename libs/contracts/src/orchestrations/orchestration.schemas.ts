import { z } from 'zod';
import { SESSION_STATUSES, SessionStatusSchema } from '../sessions/session-status';
import { SessionEgressRequestSchema } from '../egress/egress.schemas';
import { RunnerLabelsSchema } from '../runners/runner-labels';
import { BudgetSchema, BudgetStatusSchema, NO_USAGE, UsageSchema } from '../usage/usage.schemas';
import {
  DEFAULT_SESSION_TYPE,
  ImageRefSchema,
  MAX_PAGE_SIZE,
  PageQueryFields,
  PromptSchema,
  ContextSchema,
  MAX_TIMEOUT_SECONDS,
  OrchestrationIdSchema,
  RetriesSchema,
  SessionNameSchema,
  SessionTypeSchema,
  SessionViewSchema,
  ChangeSummarySchema,
  BranchNameSchema,
  waitingQuerySchema,
  CommaListSchema,
} from '../sessions/session.schemas';

export const MAX_ORCHESTRATION_SESSIONS = 10_000;

/** One session of an orchestration, naming the sessions it depends on by their names. */
export const OrchestrationSessionSchema = z.strictObject({
  name: SessionNameSchema.describe('Unique in the orchestration; how other sessions name it in dependsOn, and its directory under their /hub/inputs/'),
  type: SessionTypeSchema.default(DEFAULT_SESSION_TYPE).describe('What kind of work: analysis, implementation, testing, review, coordination, or any label'),
  prompt: PromptSchema.describe('The task for the agent'),
  context: ContextSchema.optional().describe('Told to the agent apart from the prompt, at /hub/context'),
  image: ImageRefSchema.optional().describe("The agent's container image (default: the session type's)"),
  repository: z.string().min(1).max(2048).optional().describe('The git repository its /workspace is prepared from (https URL, or a local path the runner allows)'),
  branch: z.string().min(1).max(255).optional().describe('The branch to work on (made from the repository HEAD when missing)'),
  timeoutSeconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional().describe('Time limit of one run'),
  retries: RetriesSchema.optional().describe('Re-run a failed session up to this many times, with backoff'),
  egress: SessionEgressRequestSchema.optional(),
  runnerLabels: RunnerLabelsSchema.optional().describe('Only a runner with every one of these labels (HUB_RUNNER_LABELS) runs it, e.g. ["gpu"]'),
  dependsOn: z.array(SessionNameSchema).max(1000).default([]).describe('Names of the sessions of this orchestration it starts after (their changes merged in this order)'),
});
export type OrchestrationSession = z.infer<typeof OrchestrationSessionSchema>;

export const CreateOrchestrationRequestSchema = z.strictObject({
  name: z.string().min(1, 'must not be empty').max(200).describe('A name for people, and the middle part of its branches: hub/<name>/<session>'),
  sessions: z
    .array(OrchestrationSessionSchema)
    .min(1, 'must hold at least one session')
    .max(MAX_ORCHESTRATION_SESSIONS)
    .describe('Its sessions, each naming the sessions it depends on; a cycle or an unknown name is refused and nothing is stored'),
  start: z.boolean().optional().describe('Start every session at once (each still waits for its dependencies)'),
  maxParallel: z.number().int().min(1).max(MAX_ORCHESTRATION_SESSIONS).optional().describe('At most this many of its sessions run at the same time'),
  publish: z
    .strictObject({ branch: BranchNameSchema.describe('The branch of the repository to push to (never forced)') })
    .optional()
    .describe("Push the combined result to this branch of the sessions' repository once every session completed"),
  budget: BudgetSchema.optional().describe(
    'Cap what its sessions may spend: sessions a budget cannot cover end skipped naming it (raise it with PATCH, then retry)',
  ),
});
export type CreateOrchestrationRequest = z.infer<typeof CreateOrchestrationRequestSchema>;

export const OrchestrationRefSchema = z.strictObject({ orchestrationId: OrchestrationIdSchema });

/** What `DELETE /orchestrations/:id` deleted: the orchestration and its sessions (their outputs follow, removed by a runner). */
export const DeletedOrchestrationSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** How many sessions were deleted with it. */
  sessionCount: z.number().int().nonnegative(),
});
export type DeletedOrchestration = z.infer<typeof DeletedOrchestrationSchema>;

/** `PATCH /orchestrations/:id`: change its budget (null removes it). Raising it lets `retry` run what was skipped for it. */
export const UpdateOrchestrationRequestSchema = z.strictObject({
  budget: BudgetSchema.nullable().describe('The new budget, replacing the old one; null: no budget'),
});
export type UpdateOrchestrationRequest = z.infer<typeof UpdateOrchestrationRequestSchema>;
export const UpdateOrchestrationCommandSchema = UpdateOrchestrationRequestSchema.extend({ orchestrationId: OrchestrationIdSchema });
export type UpdateOrchestrationCommand = z.infer<typeof UpdateOrchestrationCommandSchema>;

export const ORCHESTRATION_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export const OrchestrationStatusSchema = z.enum(ORCHESTRATION_STATUSES);
export type OrchestrationStatus = z.infer<typeof OrchestrationStatusSchema>;

/** Every session ended: the statuses an orchestration is in once it finished (`orchestration.finished`). */
export const ENDED_ORCHESTRATION_STATUSES = ['completed', 'failed', 'cancelled'] as const satisfies readonly OrchestrationStatus[];

export function isOrchestrationEnded(status: OrchestrationStatus): boolean {
  return (ENDED_ORCHESTRATION_STATUSES as readonly OrchestrationStatus[]).includes(status);
}

export const SessionCountsSchema = z.object(
  Object.fromEntries(SESSION_STATUSES.map((status) => [status, z.number().int()])) as Record<
    (typeof SESSION_STATUSES)[number],
    z.ZodNumber
  >,
);
export type SessionCounts = z.infer<typeof SessionCountsSchema>;

/**
 * The combined change of an orchestration's final sessions (the completed sessions whose work no
 * completed session took up: each session's change already holds its dependencies'), merged in
 * declaration order on `branch` (`hub/<orchestration>/_result`: no session name starts with `_`); its diff, file list and bundle are in
 * the object store under `orchestrationChangesKey`.
 */
export const CombinedChangesSchema = ChangeSummarySchema.extend({
  repository: z.string().nullable(),
  sessions: z.array(z.object({ sessionId: z.string(), name: z.string().nullable() })).max(MAX_PAGE_SIZE),
});
export type CombinedChanges = z.infer<typeof CombinedChangesSchema>;

export const PUBLISH_STATUSES = ['pushed', 'failed', 'not_pushed'] as const;
/** What became of `publish`: pushed (the commit), failed (why), or not pushed (why: a session did not complete, nothing changed). */
export const PublishOutcomeSchema = z.object({
  branch: z.string(),
  status: z.enum(PUBLISH_STATUSES),
  commit: z.string().nullable(),
  reason: z.string().max(2000).nullable(),
});
export type PublishOutcome = z.infer<typeof PublishOutcomeSchema>;

/** What an orchestration produced, recorded by a runner once every session ended. */
export const OrchestrationResultSchema = z.object({
  /** Null when no session changed anything, or when the changes could not be combined (`reason`). */
  changes: CombinedChangesSchema.nullable(),
  reason: z.string().max(2000).nullable(),
  /** Null when the orchestration did not ask to publish. */
  publish: PublishOutcomeSchema.nullable(),
  at: z.string(),
});
export type OrchestrationResult = z.infer<typeof OrchestrationResultSchema>;

/** An orchestration without its sessions: what the registry answers and lists. */
export const OrchestrationSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  status: OrchestrationStatusSchema,
  maxParallel: z.number().int().nullable(),
  sessionCount: z.number().int(),
  counts: SessionCountsSchema,
  createdAt: z.string(),
  /** The branch its result is to be pushed to, when it asked (`publish`). */
  publish: z.object({ branch: z.string() }).nullable().default(null),
  /** What its sessions spent, every attempt of every run (zero until a session reported usage). */
  usage: UsageSchema.default(NO_USAGE),
  /** Its budget, what is left of it and whether it is exhausted; null when it has none. */
  budget: BudgetStatusSchema.nullable().default(null),
  /**
   * In an orchestration's own view (not in lists, to keep their pages small): what it produced, null
   * until every session ended and a runner combined their changes.
   */
  result: OrchestrationResultSchema.nullable().optional(),
  /**
   * In an orchestration's own view (not in lists): the sessions that ended without completing and made
   * others skip, the root causes, at most MAX_SKIP_CAUSES of them.
   */
  causes: z
    .array(
      z.object({
        sessionId: z.string(),
        name: z.string().nullable(),
        status: SessionStatusSchema,
        reason: z.string().nullable(),
        skipped: z.number().int().nonnegative(),
      }),
    )
    .optional(),
});
export type OrchestrationSummary = z.infer<typeof OrchestrationSummarySchema>;
export const MAX_SKIP_CAUSES = 20;

/** An orchestration's view lists at most this many of its sessions; `nextCursor` reads on from there. */
export const ORCHESTRATION_VIEW_SESSIONS = MAX_PAGE_SIZE;
/**
 * ...and at most this many bytes of them (JSON), fewer sessions if need be (always at least one),
 * so the registry's answer fits one NATS message whatever the sessions hold (up to 1000 dependencies each).
 */
export const ORCHESTRATION_VIEW_MAX_BYTES = 512 * 1024;

/** Which sessions an orchestration's view lists: `limit` of them (default ORCHESTRATION_VIEW_SESSIONS) after `cursor`. */
export const OrchestrationViewQuerySchema = z.strictObject({ ...PageQueryFields });
export type OrchestrationViewQuery = z.infer<typeof OrchestrationViewQuerySchema>;

/** What a read of an orchestration may wait for: it ended (`orchestration.finished`), or its `result` is recorded (`orchestration.result`). */
export const ORCHESTRATION_WAITS = ['terminal', 'result'] as const;
export type OrchestrationWait = (typeof ORCHESTRATION_WAITS)[number];

/** `GET /orchestrations/:id`: a page of its sessions, and `?wait=terminal|result&timeoutSeconds=n`. */
export const GetOrchestrationQuerySchema = waitingQuerySchema(ORCHESTRATION_WAITS, PageQueryFields);
export type GetOrchestrationQuery = z.infer<typeof GetOrchestrationQuerySchema>;

/** The registry's `orchestrations.get`: the orchestration, and a page of its sessions. */
export const GetOrchestrationRequestSchema = z.strictObject({ ...OrchestrationRefSchema.shape, ...PageQueryFields });
export type GetOrchestrationRequest = z.infer<typeof GetOrchestrationRequestSchema>;

/**
 * An orchestration with its sessions in the order they were declared, read at one instant (one
 * snapshot of the registry's tables), so `status` and `counts` agree with the sessions listed.
 * At most ORCHESTRATION_VIEW_SESSIONS sessions (and ORCHESTRATION_VIEW_MAX_BYTES) at once:
 * `nextCursor` (null when every session is listed) reads the next ones.
 */
export const OrchestrationViewSchema = OrchestrationSummarySchema.extend({
  sessions: z.array(SessionViewSchema),
  nextCursor: z.string().nullable(),
});
export type OrchestrationView = z.infer<typeof OrchestrationViewSchema>;

export const ListOrchestrationsQuerySchema = z.strictObject({
  status: CommaListSchema.pipe(z.array(OrchestrationStatusSchema).min(1).max(ORCHESTRATION_STATUSES.length)).optional(),
  ...PageQueryFields,
});
export type ListOrchestrationsQuery = z.infer<typeof ListOrchestrationsQuerySchema>;

export const OrchestrationPageSchema = z.object({
  items: z.array(OrchestrationSummarySchema),
  nextCursor: z.string().nullable(),
});
export type OrchestrationPage = z.infer<typeof OrchestrationPageSchema>;

