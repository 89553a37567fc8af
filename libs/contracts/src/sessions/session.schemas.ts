import { z } from 'zod';
import { IMAGE_REFERENCE_RULE, MAX_IMAGE_REFERENCE_LENGTH, parseImageReference } from './image-reference';
import { SESSION_STATUSES, SessionStatusSchema } from './session-status';
import { EgressTrafficSchema, SessionEgressRequestSchema } from '../egress/egress.schemas';
import { UsageSchema } from '../usage/usage.schemas';
import { RunnerLabelsSchema } from '../runners/runner-labels';

/**
 * Shapes shared by the HTTP API, the registry's request/reply subjects and the MCP tools.
 * Defined once here; every edge validates against them.
 */
export const SessionIdSchema = z.uuid({ message: 'must be a session id (a UUID)' });
export const OrchestrationIdSchema = z.uuid({ message: 'must be an orchestration id (a UUID)' });

export const MAX_PROMPT_LENGTH = 200_000;
/**
 * A prompt travels to the runner inside one NATS message (the claim's answer), which NATS caps at
 * 1 MiB; JSON escapes a control character in 6 bytes, so the length alone does not bound it.
 */
export const MAX_PROMPT_JSON_BYTES = 600 * 1024;

export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

export {
  IMAGE_REFERENCE_RULE,
  MAX_IMAGE_REFERENCE_LENGTH,
  parseImageReference,
  type ImageReference,
  type ImageReferenceParse,
} from './image-reference';

/**
 * An image reference, parsed as Docker parses it and answered in Docker's familiar form with the
 * default tag (`hub/test-agent` → `hub/test-agent:latest`, `docker.io/library/busybox` →
 * `busybox:latest`): the form Hub stores, shows and matches allow-lists against. Anything Docker
 * would not take (`hub/../busybox`, `hub/x:`), and upper-case names (`HUB/x`), is refused, naming
 * the rule (image-reference.ts).
 */
export const ImageRefSchema = z
  .string()
  .max(MAX_IMAGE_REFERENCE_LENGTH, `${IMAGE_REFERENCE_RULE} of at most ${MAX_IMAGE_REFERENCE_LENGTH} characters`)
  .transform((value, ctx) => {
    const parsed = parseImageReference(value);
    if (parsed.ok) return parsed.reference.familiar;
    ctx.issues.push({ code: 'custom', message: parsed.message, input: value });
    return z.NEVER;
  });

export const SessionTypeSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_-]*$/, 'must be a lower-case label such as analysis or implementation');

export const PromptSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_PROMPT_LENGTH)
  .refine((prompt) => Buffer.byteLength(JSON.stringify(prompt)) <= MAX_PROMPT_JSON_BYTES, {
    message: `must be at most ${MAX_PROMPT_JSON_BYTES} bytes once JSON-encoded (control characters take 6 bytes each)`,
  });

/**
 * What a session is told besides its prompt (claude-hub's `context`): kept apart from the prompt, so a
 * prompt stays what it is (a shell command for the test agent); the container reads it at /hub/context.
 */
export const MAX_CONTEXT_LENGTH = 64_000;
export const MAX_CONTEXT_JSON_BYTES = 64 * 1024;
export const ContextSchema = z
  .string()
  .max(MAX_CONTEXT_LENGTH)
  .refine((context) => Buffer.byteLength(JSON.stringify(context)) <= MAX_CONTEXT_JSON_BYTES, {
    message: `must be at most ${MAX_CONTEXT_JSON_BYTES} bytes once JSON-encoded`,
  });

export const DEFAULT_SESSION_TYPE = 'implementation';
export const MAX_RETRIES = 10;

/** A session's name: unique in its orchestration, and its directory name under a dependent's /hub/inputs/. */
export const SessionNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit');

export const RetriesSchema = z.number().int().min(0).max(MAX_RETRIES);

/** A git branch name, refused early when it could only be mischief (git's own check-ref-format still applies). */
export const BranchNameSchema = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (branch) =>
      !branch.startsWith('-') &&
      !branch.startsWith('/') &&
      !branch.endsWith('/') &&
      !branch.endsWith('.') &&
      !branch.endsWith('.lock') &&
      !branch.includes('..') &&
      !branch.includes('@{') &&
      !branch.includes('//') &&
      !/[\x00-\x20\x7f~^:?*[\\]/.test(branch),
    'must be a valid git branch name',
  );

export const CreateSessionRequestSchema = z.strictObject({
  type: SessionTypeSchema.default(DEFAULT_SESSION_TYPE),
  prompt: PromptSchema,
  /** Given to the agent at /hub/context (HUB_CONTEXT_FILE), apart from the prompt. */
  context: ContextSchema.optional(),
  image: ImageRefSchema.optional(),
  orchestrationId: OrchestrationIdSchema.optional(),
  name: SessionNameSchema.optional(),
  repository: z.string().min(1).max(2048).optional(),
  branch: z.string().min(1).max(255).optional(),
  timeoutSeconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional(),
  dependsOn: z.array(SessionIdSchema).max(1000).optional(),
  /** Re-run a failed session up to this many times, with exponential backoff. */
  retries: RetriesSchema.optional(),
  /** What the agent may reach through Hub's egress proxy, within its image's allowance (HUB_EGRESS). */
  egress: SessionEgressRequestSchema.optional(),
  /** Only a runner with every one of these labels (HUB_RUNNER_LABELS) runs it, e.g. ['gpu']. */
  runnerLabels: RunnerLabelsSchema.optional(),
  start: z.boolean().optional(),
});
export type CreateSessionRequest = z.infer<typeof CreateSessionRequestSchema>;

export const SessionRefSchema = z.strictObject({ sessionId: SessionIdSchema });
export type SessionRef = z.infer<typeof SessionRefSchema>;

/** What `DELETE /sessions/:id` deleted: the session and, when it was its last, its orchestration (outputs follow, removed by a runner). */
export const DeletedSessionSchema = z.object({
  id: z.string(),
  orchestrationId: z.string(),
  orchestrationDeleted: z.boolean(),
});
export type DeletedSession = z.infer<typeof DeletedSessionSchema>;

/**
 * `POST /sessions/:id/continue`: a follow-up to a completed session, run as a new session of the
 * same orchestration that resumes its agent's conversation (the agent's image restores it from the
 * session's output; Claude Code's does) on top of its captured code changes.
 */
export const ContinueSessionRequestSchema = z.strictObject({
  prompt: PromptSchema.describe('What to ask the agent next, in the same conversation'),
  context: ContextSchema.optional().describe('Told to the agent apart from the prompt, at /hub/context'),
  timeoutSeconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional().describe("Time limit of one run (default: the first session's)"),
  start: z.boolean().default(true).describe('Start it at once (default)'),
});
export type ContinueSessionRequest = z.infer<typeof ContinueSessionRequestSchema>;
/** The registry's `sessions.continue`: the session continued, and the follow-up. */
export const ContinueSessionCommandSchema = ContinueSessionRequestSchema.extend({ sessionId: SessionIdSchema });
export type ContinueSessionCommand = z.infer<typeof ContinueSessionCommandSchema>;
/** A session's view lists at most this many sessions that continue it. */
export const MAX_CONTINUATIONS_LISTED = 50;

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

/** The paging fields every list takes: a page size and the opaque cursor of the previous page. */
export const PageQueryFields = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
  cursor: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor returned by a previous page')
    .optional(),
};

/**
 * A filter on one or several values: `status=failed,skipped` in a query, or a list. Read again (the
 * registry re-checks what the gateway passed on), a list stays the list.
 */
export const CommaListSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(',').map((item) => item.trim())));

export const SessionStatusFilterSchema = CommaListSchema.pipe(z.array(SessionStatusSchema).min(1).max(SESSION_STATUSES.length));

/** The longest text a session list may be searched for (`q`). */
export const MAX_SESSION_SEARCH_LENGTH = 200;

export const ListSessionsQuerySchema = z.strictObject({
  orchestrationId: OrchestrationIdSchema.optional(),
  status: SessionStatusFilterSchema.optional(),
  type: SessionTypeSchema.optional(),
  /** Sessions whose name, id or status reason holds this text, in any case. */
  q: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_SESSION_SEARCH_LENGTH)
    .regex(/^[^\x00-\x1f\x7f]*$/, 'must not hold control characters')
    .optional(),
  ...PageQueryFields,
});
export type ListSessionsQuery = z.infer<typeof ListSessionsQuerySchema>;

/**
 * `GET /api/v1/sessions/:id/logs`: which attempt (default the latest), and whether to follow it as it
 * runs (`follow=true`: NDJSON, or SSE for `Accept: text/event-stream`) rather than read its stored log.
 */
export const SessionLogQuerySchema = z.strictObject({
  attempt: z.coerce.number().int().min(1).max(1_000_000).optional(),
  follow: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((value) => value === 'true')
    .optional(),
});
export type SessionLogQuery = z.infer<typeof SessionLogQuerySchema>;

/** How long a `?wait=` read may hold its answer back, in seconds. */
export const MAX_WAIT_SECONDS = 300;
export const DEFAULT_WAIT_SECONDS = 30;

/**
 * The answer header of a `?wait=` read: `reached` when what was awaited happened, `timed-out` when
 * the view is the current one at the end of `timeoutSeconds` (still 200).
 */
export const WAIT_HEADER = 'Hub-Wait';

/**
 * The query of a read that may wait: `shape`, plus what to wait for (one of `awaitable`) and for how
 * long (`timeoutSeconds`, 1..MAX_WAIT_SECONDS, default DEFAULT_WAIT_SECONDS; only with `wait`).
 */
export function waitingQuerySchema<const W extends readonly [string, ...string[]], S extends z.ZodRawShape>(awaitable: W, shape: S) {
  return z
    .strictObject({
      ...shape,
      wait: z.enum(awaitable).optional(),
      timeoutSeconds: z.coerce.number().int().min(1).max(MAX_WAIT_SECONDS).optional(),
    })
    .refine((query: Record<string, unknown>) => query.timeoutSeconds === undefined || query.wait !== undefined, {
      message: 'is only taken with wait',
      path: ['timeoutSeconds'],
    });
}

/** `GET /sessions/:id?wait=terminal&timeoutSeconds=n`: answers once the session has ended (or at the timeout). */
export const GetSessionQuerySchema = waitingQuerySchema(['terminal'], {});
export type GetSessionQuery = z.infer<typeof GetSessionQuerySchema>;

/**
 * What a session changed in its git workspace, as captured when it ended: its commits (and one of
 * whatever it left uncommitted) on `branch`, from `baseCommit` to `headCommit`. The per-file list
 * and the diff are objects in the object store (`changesListObjectName`, `changesDiffObjectName`).
 */
export const ChangeSummarySchema = z.object({
  branch: z.string().max(400),
  baseCommit: z.string().regex(/^[0-9a-f]{40,64}$/),
  headCommit: z.string().regex(/^[0-9a-f]{40,64}$/),
  files: z.number().int().nonnegative(),
  added: z.number().int().nonnegative(),
  removed: z.number().int().nonnegative(),
});
export type ChangeSummary = z.infer<typeof ChangeSummarySchema>;

/** One file a session changed: lines added and removed (null for a binary file). */
export const ChangedFileSchema = z.object({
  path: z.string().max(4096),
  added: z.number().int().nonnegative().nullable(),
  removed: z.number().int().nonnegative().nullable(),
});
export type ChangedFile = z.infer<typeof ChangedFileSchema>;

export const SessionViewSchema = z.object({
  id: z.string(),
  orchestrationId: z.string(),
  name: z.string().nullable(),
  type: z.string(),
  status: SessionStatusSchema,
  statusReason: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  containerId: z.string().nullable(),
  /**
   * The runner holding it (starting, running), or that ran its last attempt; null before its first
   * claim, and when its runner's lease lapsed and it waits for another (GET /api/v1/runners).
   */
  runnerId: z.string().nullable().default(null),
  image: z.string(),
  repository: z.string().nullable(),
  branch: z.string().nullable(),
  timeoutSeconds: z.number().int(),
  /** The labels a runner must have to run it (HUB_RUNNER_LABELS); empty: any runner. */
  runnerLabels: z.array(z.string()).default([]),
  dependsOn: z.array(z.string()),
  /** How many times a failed run is retried. */
  retries: z.number().int(),
  /** Runs so far (each in a new container); `attempts` lists those that ended. */
  attempt: z.number().int(),
  attempts: z.array(
    z.object({
      attempt: z.number().int(),
      status: SessionStatusSchema,
      reason: z.string().nullable(),
      exitCode: z.number().int().nullable(),
      containerId: z.string().nullable(),
      finishedAt: z.string(),
    }),
  ),
  /** The log the runner stored (null before the container exited): bytes kept, and bytes dropped over the log cap. */
  log: z.object({ bytes: z.number().int().nonnegative(), droppedBytes: z.number().int().nonnegative() }).nullable(),
  /** What the agent left in /hub/output (null before the container exited): files kept, their bytes, entries not kept. */
  output: z
    .object({ files: z.number().int().nonnegative(), bytes: z.number().int().nonnegative(), skipped: z.number().int().nonnegative() })
    .nullable(),
  /** What it changed in its git workspace (null before it ended, or when it changed nothing). */
  changes: ChangeSummarySchema.nullable(),
  /**
   * What its last attempt reached, or tried to, through Hub's egress proxy: each destination, allowed
   * or refused (and why), its connections and bytes (null before it ended, or when it may reach nothing).
   */
  egress: EgressTrafficSchema.nullable(),
  /**
   * What its agent reported spending, every attempt of every run added up (null until an attempt
   * reported usage: an agent that writes no usage.json spends nothing Hub can see).
   */
  usage: UsageSchema.nullable().default(null),
  /** The session whose conversation and code it continues (`POST /sessions/:id/continue`), or null. */
  continues: z.string().nullable().default(null),
  /** The sessions that continue it, oldest first (at most MAX_CONTINUATIONS_LISTED). */
  continuedBy: z.array(z.string()).default([]),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type SessionView = z.infer<typeof SessionViewSchema>;

export const SessionPageSchema = z.object({
  items: z.array(SessionViewSchema),
  nextCursor: z.string().nullable(),
});
export type SessionPage = z.infer<typeof SessionPageSchema>;

export const OutputFileSchema = z.object({
  path: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type OutputFile = z.infer<typeof OutputFileSchema>;

/** At most this many entries a session did not keep are named (with why); the rest are counted. */
export const MAX_SKIPPED_NAMED = 20;

/** An entry of /hub/output that was not kept, and why (over a limit, not a regular file, a path too long). */
export const SkippedOutputSchema = z.object({
  path: z.string().max(400),
  reason: z.string().max(200),
});
export type SkippedOutput = z.infer<typeof SkippedOutputSchema>;

/** A session's output as the API answers it: the file list comes from the manifest in the object store. */
export const SessionOutputSchema = z.object({
  sessionId: z.string(),
  status: SessionStatusSchema,
  exitCode: z.number().int().nullable(),
  files: z.array(OutputFileSchema),
  skipped: z.array(SkippedOutputSchema),
  skippedCount: z.number().int().nonnegative(),
  /** What it changed in its git workspace, when it changed anything. */
  changes: ChangeSummarySchema.nullable().optional(),
});
export type SessionOutput = z.infer<typeof SessionOutputSchema>;
