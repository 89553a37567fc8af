import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  badRequest,
  BudgetSchema,
  ContinueSessionRequestSchema,
  CreateOrchestrationRequestSchema,
  CreateSessionRequestSchema,
  DEFAULT_PAGE_SIZE,
  DEFAULT_WAIT_SECONDS,
  ListOrchestrationsQuerySchema,
  ListSessionsQuerySchema,
  MAX_PAGE_SIZE,
  MAX_WAIT_SECONDS,
  OrchestrationIdSchema,
  OrchestrationPageSchema,
  OrchestrationStatusSchema,
  OrchestrationSummarySchema,
  OrchestrationViewQuerySchema,
  OrchestrationViewSchema,
  SessionIdSchema,
  SessionNameSchema,
  SessionPageSchema,
  SessionStatusSchema,
  SessionTypeSchema,
  SessionViewSchema,
} from '@hub/contracts';
import type { HubApi } from '@hub/hub-api';
import { parseContractRequest } from './contract-request';
import {
  DEFAULT_LOG_TAIL_LINES,
  MAX_LOG_TAIL_LINES,
  SessionLogsResultSchema,
  sessionLogs,
  SessionOutputResultSchema,
  sessionOutputWithContents,
} from './session-output';

/**
 * Hub's MCP tools, defined once over the HubApi port and served by both transports. Argument
 * schemas reuse the contracts' field schemas; each tool maps its arguments onto the contract's
 * request and answers with the contract's view (also its output schema).
 */
export interface HubTool<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  run(hub: HubApi, args: z.output<I>): Promise<z.output<O>>;
}

const tool = <I extends z.ZodObject, O extends z.ZodObject>(definition: HubTool<I, O>): HubTool<I, O> => definition;

const TERMINAL = 'completed, failed, cancelled, timed_out or skipped';

const sessionIdArg = SessionIdSchema.describe(
  'The session id (a UUID), as returned by create_session, create_orchestration or list_sessions',
);
const sessionRef = z.strictObject({ session_id: sessionIdArg });
const orchestrationRef = z.strictObject({
  orchestration_id: OrchestrationIdSchema.describe('The orchestration id (a UUID), as returned by create_orchestration'),
});
const request = CreateSessionRequestSchema.shape;

const ContinueSessionArgs = z.strictObject({ session_id: sessionIdArg, ...ContinueSessionRequestSchema.shape });
const SetBudgetArgs = z.strictObject({
  ...orchestrationRef.shape,
  budget: BudgetSchema.nullable().describe('The new budget (tokens, usd, onExhausted), replacing the old one; null removes it'),
});

const CreateSessionArgs = z.strictObject({
  type: SessionTypeSchema.optional().describe(
    'What kind of work: analysis, implementation, testing, review or coordination (any lower-case label). Default: implementation',
  ),
  prompt: request.prompt
    .optional()
    .describe('The task for the agent, as it would be told to it. Required unless project.requirements is given'),
  project: z
    .object({
      repository: request.repository.describe('The repository to work on'),
      requirements: request.prompt.optional().describe('The task; used as the prompt when prompt is not given'),
      branch: request.branch.describe('The branch to work on'),
    })
    .optional()
    .describe('claude-hub style project: requirements is the prompt, repository and branch as below'),
  repository: request.repository.describe('Git repository the agent clones into /workspace (URL or owner/name)'),
  branch: request.branch.describe('Branch of the repository'),
  dependencies: z
    .array(sessionIdArg)
    .max(1000)
    .optional()
    .describe(
      'Ids of sessions that must complete before this one starts; their outputs are mounted read-only at /hub/inputs/<name or id>/. If one of them does not complete, this session ends skipped',
    ),
  start: z
    .boolean()
    .optional()
    .describe('true: start now (it still waits for its dependencies). false or omitted: call start_session later'),
  name: SessionNameSchema.optional().describe('A name for the session (its directory name under a dependent\'s /hub/inputs/)'),
  orchestration_id: OrchestrationIdSchema.optional().describe(
    'Add the session to this orchestration. Default: the orchestration of its dependencies, else a new one of its own',
  ),
  image: request.image.describe('Container image of the agent (default: the configured agent image)'),
  timeout_seconds: request.timeoutSeconds.describe('Time limit of a run (default: one hour)'),
  retries: request.retries.describe('Re-run a failed session up to this many times, with backoff'),
  egress: request.egress,
  runner_labels: request.runnerLabels.describe('Labels a runner must have to run it (its HUB_RUNNER_LABELS), e.g. ["gpu"]; default: any runner'),
});

type CreateSessionArgs = z.output<typeof CreateSessionArgs>;

/** MCP arguments (claude-hub's `project` included) → the REST API's session request. */
async function createSession(hub: HubApi, args: CreateSessionArgs) {
  const prompt = args.prompt ?? args.project?.requirements;
  if (prompt === undefined) {
    throw badRequest('prompt: is required (give prompt, or project.requirements)', [{ path: 'prompt', message: 'is required' }]);
  }
  const optional = {
    type: args.type,
    name: args.name,
    orchestrationId: args.orchestration_id,
    repository: args.repository ?? args.project?.repository,
    branch: args.branch ?? args.project?.branch,
    image: args.image,
    timeoutSeconds: args.timeout_seconds,
    retries: args.retries,
    egress: args.egress,
    runnerLabels: args.runner_labels,
    dependsOn: args.dependencies,
    start: args.start,
  };
  const given = Object.entries(optional).filter(([, value]) => value !== undefined);
  return hub.createSession(parseContractRequest(CreateSessionRequestSchema, { prompt, ...Object.fromEntries(given) }));
}

const pageArgs = (what: string, byDefault: number) => ({
  limit: z
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .optional()
    .describe(`${what} per page (default ${byDefault}, at most ${MAX_PAGE_SIZE})`),
  cursor: ListSessionsQuerySchema.shape.cursor.describe('nextCursor of the previous page, for the next one'),
});

const ListSessionsArgs = z.strictObject({
  orchestration_id: OrchestrationIdSchema.optional().describe('Only the sessions of this orchestration'),
  status: SessionStatusSchema.optional().describe('Only the sessions in this status'),
  type: SessionTypeSchema.optional().describe('Only the sessions of this type'),
  ...pageArgs('Sessions', DEFAULT_PAGE_SIZE),
});

const WaitForSessionArgs = z.strictObject({
  session_id: sessionIdArg,
  timeout_seconds: z
    .number()
    .int()
    .min(1)
    .max(MAX_WAIT_SECONDS)
    .optional()
    .describe(`How long to wait at most (default ${DEFAULT_WAIT_SECONDS}, at most ${MAX_WAIT_SECONDS})`),
});

const WaitForSessionResultSchema = z.object({
  ended: z.boolean().describe(`true: the session has ended (${TERMINAL}); false: the wait timed out first`),
  session: SessionViewSchema,
});

const GetOrchestrationArgs = z.strictObject({ ...orchestrationRef.shape, ...pageArgs('Sessions', MAX_PAGE_SIZE) });

const ListOrchestrationsArgs = z.strictObject({
  status: OrchestrationStatusSchema.optional().describe('Only the orchestrations in this status'),
  ...pageArgs('Orchestrations', DEFAULT_PAGE_SIZE),
});

const SessionLogsArgs = z.strictObject({
  session_id: sessionIdArg,
  tail: z
    .number()
    .int()
    .min(1)
    .max(MAX_LOG_TAIL_LINES)
    .optional()
    .describe(`How many of the last lines to return (default ${DEFAULT_LOG_TAIL_LINES}, at most ${MAX_LOG_TAIL_LINES})`),
});

export const HUB_TOOLS = [
  tool({
    name: 'create_session',
    title: 'Create a session',
    description:
      'Create one Hub session: an AI coding agent that runs the prompt in its own container. ' +
      'Give the task as prompt (or as project.requirements). dependencies lists session ids that must complete first ' +
      '(the new session joins their orchestration). ' +
      'With start: true it runs as soon as its dependencies have completed; otherwise call start_session. ' +
      'Returns the session; wait_for_session waits until it has ended. For several related sessions, create_orchestration does it in one call.',
    input: CreateSessionArgs,
    output: SessionViewSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    run: createSession,
  }),
  tool({
    name: 'start_session',
    title: 'Start a session',
    description:
      'Start a created session, and the sessions it depends on that nobody started; it runs once they have completed. ' +
      'Starting a session already on its way changes nothing; one that has ended cannot be started again. Returns the session.',
    input: sessionRef,
    output: SessionViewSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    run: (hub, args) => hub.startSession(args.session_id),
  }),
  tool({
    name: 'get_session_status',
    title: 'Get a session',
    description:
      'A session: status, statusReason (why it is in that status), exitCode, dependsOn, attempts, times. ' +
      'Statuses: created → waiting → ready → starting → running → completed | failed | cancelled | timed_out, ' +
      `and skipped when a dependency did not complete. It has ended once ${TERMINAL} (wait_for_session waits for that); then get_session_output.`,
    input: sessionRef,
    output: SessionViewSchema,
    annotations: { readOnlyHint: true, openWorldHint: false },
    run: (hub, args) => hub.getSession(args.session_id),
  }),
  tool({
    name: 'wait_for_session',
    title: 'Wait for a session to end',
    description:
      `Wait until a session has ended (${TERMINAL}), for at most timeout_seconds, then answer it: ended true with the ` +
      'session as it ended, or ended false with the session as it is (call again to wait longer). Hub answers as soon as ' +
      'it ends (no polling needed); then get_session_output.',
    input: WaitForSessionArgs,
    output: WaitForSessionResultSchema,
    annotations: { readOnlyHint: true, openWorldHint: false },
    run: async (hub, args) => {
      const { view, reached } = await hub.waitForSession(args.session_id, args.timeout_seconds ?? DEFAULT_WAIT_SECONDS);
      return { ended: reached, session: view };
    },
  }),
  tool({
    name: 'list_sessions',
    title: 'List sessions',
    description:
      'List sessions, newest first. Every argument is optional: with none, it lists all sessions. ' +
      'Filter by orchestration_id, status or type. Answers { items, nextCursor }; pass nextCursor as cursor for the next page.',
    input: ListSessionsArgs,
    output: SessionPageSchema,
    annotations: { readOnlyHint: true, openWorldHint: false },
    run: (hub, args) =>
      hub.listSessions(
        parseContractRequest(ListSessionsQuerySchema, {
          orchestrationId: args.orchestration_id,
          status: args.status,
          type: args.type,
          limit: args.limit,
          cursor: args.cursor,
        }),
      ),
  }),
  tool({
    name: 'get_session_output',
    title: 'Get the output of a session',
    description:
      'What a session produced: its status and exit code, the files it wrote to /hub/output/ (path, size, sha256, and the ' +
      'content of small text files), what it changed in its git workspace (`changes`: branch, base and head commits, files, ' +
      'lines added and removed) and the last lines of its log. Outputs are stored when its container exits.',
    input: sessionRef,
    output: SessionOutputResultSchema,
    annotations: { readOnlyHint: true, openWorldHint: false },
    run: (hub, args) => sessionOutputWithContents(hub, args.session_id),
  }),
  tool({
    name: 'get_session_logs',
    title: 'Get the log of a session',
    description:
      "The last lines of a session's log (its container's stdout and stderr). The log is stored when the container exits, " +
      'so a session still running has none yet.',
    input: SessionLogsArgs,
    output: SessionLogsResultSchema,
    annotations: { readOnlyHint: true, openWorldHint: false },
    run: (hub, args) => sessionLogs(hub, args.session_id, args.tail ?? DEFAULT_LOG_TAIL_LINES),
  }),
  tool({
    name: 'cancel_session',
    title: 'Cancel a session',
    description:
      'Cancel a session. One not yet running ends cancelled at once; a running container is stopped (SIGTERM, then SIGKILL ' +
      'after a grace period) and the session ends cancelled; sessions that depend on it end skipped. ' +
      'A session that has already ended cannot be cancelled. Returns the session.',
    input: sessionRef,
    output: SessionViewSchema,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    run: (hub, args) => hub.cancelSession(args.session_id),
  }),
  tool({
    name: 'rerun_session',
    title: 'Run an ended session again',
    description:
      `Run a session that has ended (${TERMINAL}) again, with the sessions downstream of it that did not complete ` +
      '(failed, timed out, cancelled or skipped, through each other); a completed dependent keeps its result. Each waits ' +
      'for its dependencies again (a completed one counts as completed) and gets its retries anew; its earlier attempts ' +
      'stay listed. A session still on its way cannot be re-run. Returns the session.',
    input: sessionRef,
    output: SessionViewSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    run: (hub, args) => hub.rerunSession(args.session_id),
  }),
  tool({
    name: 'continue_session',
    title: 'Continue a completed session',
    description:
      'Ask a completed session a follow-up in the same conversation: a new session of its orchestration, named ' +
      '<name>-continued-<n>, that starts from its code changes and whose agent resumes its conversation (Claude Code ' +
      'resumes it; other images get its output at /hub/inputs/<name>/). Refused unless the session completed. ' +
      'Returns the new session; wait_for_session tells when it ended.',
    input: ContinueSessionArgs,
    output: SessionViewSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    run: (hub, { session_id, ...request }) => hub.continueSession(session_id, request),
  }),
  tool({
    name: 'set_orchestration_budget',
    title: "Change an orchestration's budget",
    description:
      "Replace what an orchestration's sessions may spend (tokens, dollars, or both; onExhausted finish or stop), or " +
      'remove the cap with null. Sessions skipped for the old budget stay skipped: retry_orchestration runs them under ' +
      'the new one. Returns the orchestration summary with what is spent (usage) and left (budget.left).',
    input: SetBudgetArgs,
    output: OrchestrationSummarySchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    run: (hub, { orchestration_id, budget }) => hub.updateOrchestration(orchestration_id, { budget }),
  }),
  tool({
    name: 'retry_orchestration',
    title: 'Retry an ended orchestration',
    description:
      'Run an orchestration that has ended again where it did not complete: its failed, timed-out, cancelled and skipped ' +
      'sessions wait for their dependencies again (with their retries anew, their earlier attempts still listed), while ' +
      'completed sessions keep their results. Refused while any of its sessions is on its way, or when none is to run ' +
      'again. Returns the orchestration summary; poll get_session_status or list_sessions with its id.',
    input: orchestrationRef,
    output: OrchestrationSummarySchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    run: (hub, args) => hub.retryOrchestration(args.orchestration_id),
  }),
  tool({
    name: 'get_orchestration',
    title: 'Get an orchestration',
    description:
      'An orchestration: its status (pending, running, completed, failed, cancelled), counts of its sessions per status, ' +
      'the sessions that made others skip (causes), its result once every session ended (the combined change, what ' +
      'became of publish), and its sessions in the order declared, a page at a time (nextCursor as cursor for the next).',
    input: GetOrchestrationArgs,
    output: OrchestrationViewSchema,
    annotations: { readOnlyHint: true, openWorldHint: false },
    run: (hub, args) =>
      hub.getOrchestration(args.orchestration_id, parseContractRequest(OrchestrationViewQuerySchema, { limit: args.limit, cursor: args.cursor })),
  }),
  tool({
    name: 'list_orchestrations',
    title: 'List orchestrations',
    description:
      'List orchestrations, newest first, without their sessions (get_orchestration has them). Every argument is optional. ' +
      'Answers { items, nextCursor }; pass nextCursor as cursor for the next page.',
    input: ListOrchestrationsArgs,
    output: OrchestrationPageSchema,
    annotations: { readOnlyHint: true, openWorldHint: false },
    run: (hub, args) =>
      hub.listOrchestrations(parseContractRequest(ListOrchestrationsQuerySchema, { status: args.status, limit: args.limit, cursor: args.cursor })),
  }),
  tool({
    name: 'cancel_orchestration',
    title: 'Cancel an orchestration',
    description:
      'Cancel every session of an orchestration that has not ended: running containers are stopped (SIGTERM, then SIGKILL ' +
      'after a grace period), the others end cancelled. Sessions that already ended keep their outcome. Returns the ' +
      'orchestration summary.',
    input: orchestrationRef,
    output: OrchestrationSummarySchema,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    run: (hub, args) => hub.cancelOrchestration(args.orchestration_id),
  }),
  tool({
    name: 'create_orchestration',
    title: 'Create an orchestration (a DAG of sessions)',
    description:
      'Create a whole DAG of sessions in one call. Each session has a unique name, a type, a prompt and dependsOn (names ' +
      'of sessions of this orchestration); it starts once all of them have completed and reads their outputs at ' +
      '/hub/inputs/<name>/. A cycle, an unknown or duplicate name is refused and nothing is stored. ' +
      'start: true starts it at once; maxParallel caps how many of its sessions run at a time; retries re-runs a failed session. ' +
      'Returns the orchestration with its sessions (and their ids) in the order declared.',
    input: CreateOrchestrationRequestSchema,
    output: OrchestrationViewSchema,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    run: (hub, args) => hub.createOrchestration(args),
  }),
] as const;

export type HubToolName = (typeof HUB_TOOLS)[number]['name'];
