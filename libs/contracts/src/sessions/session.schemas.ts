import { z } from 'zod';
import { SessionStatusSchema } from './session-status';

/**
 * Shapes shared by the HTTP API, the registry's request/reply subjects and the MCP tools.
 * Defined once here; every edge validates against them.
 */
export const SessionIdSchema = z.uuid({ message: 'must be a session id (a UUID)' });
export const OrchestrationIdSchema = z.uuid({ message: 'must be an orchestration id (a UUID)' });

export const MAX_PROMPT_LENGTH = 200_000;
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** Image references: registry/name:tag or name@sha256:..., no whitespace. */
export const ImageRefSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-z0-9][a-z0-9._\/:@-]*$/i, 'must be an image reference such as hub/test-agent:latest');

export const SessionTypeSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_-]*$/, 'must be a lower-case label such as analysis or implementation');

export const DEFAULT_SESSION_TYPE = 'implementation';
export const MAX_RETRIES = 10;

/** A session's name: unique in its orchestration, and its directory name under a dependent's /hub/inputs/. */
export const SessionNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit');

export const RetriesSchema = z.number().int().min(0).max(MAX_RETRIES);

export const CreateSessionRequestSchema = z.strictObject({
  type: SessionTypeSchema.default(DEFAULT_SESSION_TYPE),
  prompt: z.string().min(1, 'must not be empty').max(MAX_PROMPT_LENGTH),
  image: ImageRefSchema.optional(),
  orchestrationId: OrchestrationIdSchema.optional(),
  name: SessionNameSchema.optional(),
  repository: z.string().min(1).max(2048).optional(),
  branch: z.string().min(1).max(255).optional(),
  timeoutSeconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional(),
  dependsOn: z.array(SessionIdSchema).max(1000).optional(),
  /** Re-run a failed session up to this many times, with exponential backoff. */
  retries: RetriesSchema.optional(),
  start: z.boolean().optional(),
});
export type CreateSessionRequest = z.infer<typeof CreateSessionRequestSchema>;

export const SessionRefSchema = z.strictObject({ sessionId: SessionIdSchema });
export type SessionRef = z.infer<typeof SessionRefSchema>;

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

export const ListSessionsQuerySchema = z.strictObject({
  orchestrationId: OrchestrationIdSchema.optional(),
  status: SessionStatusSchema.optional(),
  type: SessionTypeSchema.optional(),
  ...PageQueryFields,
});
export type ListSessionsQuery = z.infer<typeof ListSessionsQuerySchema>;

export const SessionViewSchema = z.object({
  id: z.string(),
  orchestrationId: z.string(),
  name: z.string().nullable(),
  type: z.string(),
  status: SessionStatusSchema,
  statusReason: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  containerId: z.string().nullable(),
  image: z.string(),
  repository: z.string().nullable(),
  branch: z.string().nullable(),
  timeoutSeconds: z.number().int(),
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

export const SessionOutputSchema = z.object({
  sessionId: z.string(),
  status: SessionStatusSchema,
  exitCode: z.number().int().nullable(),
  files: z.array(OutputFileSchema),
});
export type SessionOutput = z.infer<typeof SessionOutputSchema>;
