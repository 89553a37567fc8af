import { z } from 'zod';
import { MAX_CONTEXT_LENGTH, MAX_PROMPT_LENGTH, MAX_TIMEOUT_SECONDS, OrchestrationIdSchema, SessionIdSchema } from '@hub/contracts';

/**
 * The claude-hub webhook protocol (POST /api/webhooks/claude), as claude-hub's server parses it
 * (src/providers/claude/ClaudeWebhookProvider.ts, handlers/SessionHandler.ts, handlers/OrchestrationHandler.ts,
 * src/types/claude-orchestration.ts) and as the mcp-claude-hub client sends it (mcp_server.py).
 * These are an external protocol's shapes, so they live here beside the mapping, not in @hub/contracts.
 * Objects are not strict: claude-hub drops fields it does not know, and its clients send some
 * (`session.metadata`, `options.notifyUrl`, `strategy.phases`).
 */

export const CLAUDE_HUB_WEBHOOK_PATH = 'api/webhooks/claude';

export const CLAUDE_SESSION_TYPES = ['implementation', 'analysis', 'testing', 'review', 'coordination'] as const;
export const ClaudeSessionTypeSchema = z.enum(CLAUDE_SESSION_TYPES);
export type ClaudeSessionType = z.infer<typeof ClaudeSessionTypeSchema>;

/** claude-hub's statuses, plus `queued`, which its MCP client knows. */
export const CLAUDE_SESSION_STATUSES = [
  'pending',
  'initializing',
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
] as const;
export const ClaudeSessionStatusSchema = z.enum(CLAUDE_SESSION_STATUSES);
export type ClaudeSessionStatus = z.infer<typeof ClaudeSessionStatusSchema>;

/** An optional text: absent, null and "" (the older client sends `context: ""`) all mean none. */
const optionalText = (max: number) =>
  z
    .string()
    .max(max)
    .nullish()
    .transform((value) => (value?.trim() ? value : undefined));

export const ClaudeProjectSchema = z
  .object({
    repository: z.string().trim().min(1, 'Repository is required for session creation').max(2048),
    requirements: z.string().trim().min(1, 'Requirements are required for session creation').max(MAX_PROMPT_LENGTH),
    /** Given to the agent apart from the prompt (/hub/context). */
    context: optionalText(MAX_CONTEXT_LENGTH),
    branch: optionalText(255),
  });
export type ClaudeProject = z.infer<typeof ClaudeProjectSchema>;

/** What claude-hub's SessionHandler does: drop "", blanks and "none", then every id must be a UUID. */
const DependenciesSchema = z
  .array(z.string())
  .max(1000)
  .nullish()
  .transform((ids) => (ids ?? []).map((id) => id.trim()).filter((id) => id !== '' && id.toLowerCase() !== 'none'))
  .pipe(z.array(z.uuid({ message: 'must be a session id (a UUID)' })));

/** `options` of session.create; seconds, as the client sends `timeout_minutes * 60`. */
export const ClaudeSessionOptionsSchema = z.object({
  autoStart: z.boolean().nullish(),
  timeout: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).nullish(),
});

const emptyText = z.literal('').transform(() => undefined);

export const ClaudeSessionCreateRequestSchema = z.object({
  type: z.literal('session.create'),
  session: z.object(
    {
      id: z
        .unknown()
        .optional()
        .refine((id) => id === undefined, 'Hub assigns session ids: leave session.id out and read it from the answer'),
      type: ClaudeSessionTypeSchema.default('implementation'),
      project: ClaudeProjectSchema,
      dependencies: DependenciesSchema,
      /** Where mcp-claude-hub puts them. */
      options: ClaudeSessionOptionsSchema.nullish(),
    },
    { message: 'Invalid payload: missing session field' },
  ),
  /** Where claude-hub's API document puts them. */
  options: ClaudeSessionOptionsSchema.nullish(),
});

const sessionRef = <T extends string>(type: T) => z.object({ type: z.literal(type), sessionId: SessionIdSchema });
export const ClaudeSessionGetRequestSchema = sessionRef('session.get');
export const ClaudeSessionStartRequestSchema = sessionRef('session.start');
export const ClaudeSessionOutputRequestSchema = sessionRef('session.output');

export const ClaudeSessionListRequestSchema = z.object({
  type: z.literal('session.list'),
  orchestrationId: z.union([emptyText, OrchestrationIdSchema]).nullish(),
  /** Sent by mcp_server.py's list_sessions (claude-hub's own server ignores it). */
  status: z.enum(['all', ...CLAUDE_SESSION_STATUSES]).nullish(),
});

export const ClaudeOrchestrateRequestSchema = z.object({
  type: z.literal('orchestrate'),
  project: ClaudeProjectSchema,
  sessionType: ClaudeSessionTypeSchema.default('coordination'),
  autoStart: z.boolean().nullish(),
  strategy: z
    .object({
      parallelSessions: z.number().int().min(1).max(10_000).nullish(),
      /** Milliseconds, in claude-hub's OrchestrationStrategy. */
      timeout: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS * 1000).nullish(),
    })
    .nullish(),
});

/** The same request as the client repository's monitor script sends it. */
export const ClaudeOrchestrationCreateRequestSchema = ClaudeOrchestrateRequestSchema.extend({ type: z.literal('orchestration.create') });

export const ClaudeWebhookRequestSchema = z.discriminatedUnion('type', [
  ClaudeSessionCreateRequestSchema,
  ClaudeSessionStartRequestSchema,
  ClaudeSessionGetRequestSchema,
  ClaudeSessionListRequestSchema,
  ClaudeSessionOutputRequestSchema,
  ClaudeOrchestrateRequestSchema,
  ClaudeOrchestrationCreateRequestSchema,
]);
export type ClaudeWebhookRequest = z.infer<typeof ClaudeWebhookRequestSchema>;
export type ClaudeWebhookRequestType = ClaudeWebhookRequest['type'];
export type ClaudeRequestOf<T extends ClaudeWebhookRequestType> = Extract<ClaudeWebhookRequest, { type: T }>;

export const CLAUDE_WEBHOOK_REQUEST_TYPES: readonly ClaudeWebhookRequestType[] = [
  'session.create',
  'session.start',
  'session.get',
  'session.list',
  'session.output',
  'orchestrate',
  'orchestration.create',
];

// ---- answers -------------------------------------------------------------------------------------

export const ClaudeArtifactSchema = z.object({
  type: z.enum(['file', 'commit', 'pr', 'issue', 'comment']),
  path: z.string().optional(),
  content: z.string().optional(),
  sha: z.string().optional(),
  url: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type ClaudeArtifact = z.infer<typeof ClaudeArtifactSchema>;

export const ClaudeSessionOutputSchema = z.object({
  logs: z.array(z.string()),
  artifacts: z.array(ClaudeArtifactSchema),
  summary: z.string(),
  nextSteps: z.array(z.string()),
});
export type ClaudeSessionOutput = z.infer<typeof ClaudeSessionOutputSchema>;

/** claude-hub's ClaudeSession, with absent values as null (as in its API document), plus Hub's orchestrationId. */
export const ClaudeSessionSchema = z.object({
  id: z.string(),
  type: z.string(),
  status: ClaudeSessionStatusSchema,
  containerId: z.string().nullable(),
  claudeSessionId: z.string().nullable(),
  project: z.object({
    repository: z.string(),
    branch: z.string().optional(),
  }),
  dependencies: z.array(z.string()),
  orchestrationId: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  output: ClaudeSessionOutputSchema.nullable(),
  error: z.string().nullable(),
});
export type ClaudeSession = z.infer<typeof ClaudeSessionSchema>;

/** One handler's answer (claude-hub's WebhookHandlerResponse). */
export const ClaudeHandlerResultSchema = z.object({
  success: z.boolean(),
  message: z.string().optional(),
  data: z.unknown().optional(),
  error: z.string().optional(),
});
export type ClaudeHandlerResult = z.infer<typeof ClaudeHandlerResultSchema>;

/** What claude-hub's WebhookProcessor answers around the handler results. */
export const ClaudeWebhookEnvelopeSchema = z.object({
  message: z.string(),
  event: z.string(),
  handlerCount: z.number().int(),
  results: z.array(ClaudeHandlerResultSchema),
});
export type ClaudeWebhookEnvelope = z.infer<typeof ClaudeWebhookEnvelopeSchema>;
