import { z } from 'zod';
import {
  ChangeSummary,
  CreateOrchestrationRequest,
  CreateSessionRequest,
  describeIssues,
  isTerminal,
  OutputFile,
  SessionStatus,
  SessionView,
} from '@hub/contracts';
import {
  CLAUDE_WEBHOOK_REQUEST_TYPES,
  ClaudeArtifact,
  ClaudeHandlerResult,
  ClaudeProject,
  ClaudeRequestOf,
  ClaudeSession,
  ClaudeSessionOutput,
  ClaudeSessionStatus,
  ClaudeWebhookEnvelope,
  ClaudeWebhookRequest,
  ClaudeWebhookRequestSchema,
} from './claude-hub.schemas';

/**
 * claude-hub's requests and answers ↔ Hub's. Pure functions only: what is asked of the registry
 * and what is read from the output store is decided by ClaudeHubWebhook. docs/claude-hub-compat.md
 * has the tables.
 */

// ---- requests ------------------------------------------------------------------------------------

export type ParsedClaudeRequest =
  | { ok: true; request: ClaudeWebhookRequest }
  /** 400: not a claude-hub request at all; 207: a known request whose fields are wrong (claude-hub's handlers answer those). */
  | { ok: false; httpStatus: 400 | 207; event: string; error: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** claude-hub's docs/claude-orchestration.md wraps requests in `{ data: {...} }`; its server reads the body itself. Both are taken. */
function unwrap(body: unknown): unknown {
  return isRecord(body) && body['type'] === undefined && isRecord(body['data']) ? body['data'] : body;
}

export function parseClaudeWebhookRequest(body: unknown): ParsedClaudeRequest {
  const payload = unwrap(body);
  const type = isRecord(payload) ? payload['type'] : undefined;
  const known = CLAUDE_WEBHOOK_REQUEST_TYPES.join(', ');
  if (typeof type !== 'string' || type === '') {
    return { ok: false, httpStatus: 400, event: 'unknown', error: `Invalid payload: missing type field; send one of: ${known}` };
  }
  if (!(CLAUDE_WEBHOOK_REQUEST_TYPES as readonly string[]).includes(type)) {
    return { ok: false, httpStatus: 400, event: type, error: `Unknown request type "${type}": Hub answers ${known}` };
  }
  const parsed = ClaudeWebhookRequestSchema.safeParse(payload);
  if (parsed.success) return { ok: true, request: parsed.data };
  return { ok: false, httpStatus: 207, event: type, error: `Invalid ${type} request: ${problemsOf(parsed.error, payload)}` };
}

/** Each bad field and why; a field that is not there at all "is required" (whatever its schema's own message says). */
function problemsOf(error: z.ZodError, payload: unknown): string {
  return error.issues
    .map((issue) => {
      const missing = issue.code === 'invalid_type' && valueAt(payload, issue.path) === undefined;
      const [{ field, problem }] = describeIssues(new z.ZodError([issue]));
      return `${field}: ${missing ? 'is required' : problem}`;
    })
    .join('; ');
}

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((at, key) => (isRecord(at) || Array.isArray(at) ? (at as Record<PropertyKey, unknown>)[key] : undefined), value);
}

/**
 * The prompt is the requirements, and nothing else; the context travels apart (the agent reads it at
 * /hub/context), so a test-agent prompt stays a shell command and Claude Code still sees both.
 */
function promptAndContextOf(project: Pick<ClaudeProject, 'requirements' | 'context'>): { prompt: string; context?: string } {
  return { prompt: project.requirements, ...(project.context ? { context: project.context } : {}) };
}

const GITHUB_SHORTHAND = /^[A-Za-z0-9][A-Za-z0-9-]*\/(?!\.\.?$)[A-Za-z0-9._-]+$/;
const GITHUB_CLONE_URL = /^https:\/\/github\.com\/([A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+)\.git$/;

/** claude-hub's `owner/repo` means a GitHub repository; Hub's agent clones HUB_REPOSITORY with git. Anything else passes as it is. */
export function hubRepositoryOf(repository: string): string {
  return GITHUB_SHORTHAND.test(repository) ? `https://github.com/${repository}.git` : repository;
}

/** The reverse of hubRepositoryOf, for answers. */
export function claudeRepositoryOf(repository: string | null): string {
  if (!repository) return '';
  return GITHUB_CLONE_URL.exec(repository)?.[1] ?? repository;
}

/** Options may come inside `session` (mcp-claude-hub) or beside it (claude-hub's API document); the first wins. */
function optionsOf(request: ClaudeRequestOf<'session.create'>) {
  const inner = request.session.options;
  const outer = request.options;
  return {
    autoStart: inner?.autoStart ?? outer?.autoStart ?? false,
    timeout: inner?.timeout ?? outer?.timeout ?? undefined,
  };
}

/**
 * Hub's session request. Its dependencies decide its orchestration in the registry (it joins
 * theirs), so none is named here.
 */
export function toCreateSessionRequest(request: ClaudeRequestOf<'session.create'>): CreateSessionRequest {
  const { project, type, dependencies } = request.session;
  const { autoStart, timeout } = optionsOf(request);
  return {
    type,
    ...promptAndContextOf(project),
    repository: hubRepositoryOf(project.repository),
    ...(project.branch ? { branch: project.branch } : {}),
    ...(dependencies.length ? { dependsOn: dependencies } : {}),
    ...(timeout ? { timeoutSeconds: timeout } : {}),
    start: autoStart,
  };
}

/** claude-hub's orchestrate creates one coordination session; in Hub that is an orchestration of one session. */
export function toCreateOrchestrationRequest(request: ClaudeRequestOf<'orchestrate' | 'orchestration.create'>): CreateOrchestrationRequest {
  const { project, sessionType, strategy } = request;
  return {
    name: `claude-hub orchestrate ${project.repository}`.slice(0, 200),
    sessions: [
      {
        name: 'orchestrator',
        type: sessionType,
        ...promptAndContextOf(project),
        repository: hubRepositoryOf(project.repository),
        ...(project.branch ? { branch: project.branch } : {}),
        ...(strategy?.timeout ? { timeoutSeconds: Math.ceil(strategy.timeout / 1000) } : {}),
        dependsOn: [],
      },
    ],
    start: request.autoStart !== false,
    ...(strategy?.parallelSessions ? { maxParallel: strategy.parallelSessions } : {}),
  };
}

// ---- answers -------------------------------------------------------------------------------------

/**
 * Hub's statuses as claude-hub's. Its clients wait until `completed` or `failed`, so every way of
 * ending without completing but cancel is `failed`; `error` says which it was.
 */
export const CLAUDE_STATUS_OF: Readonly<Record<SessionStatus, ClaudeSessionStatus>> = {
  created: 'pending',
  waiting: 'queued',
  ready: 'queued',
  starting: 'initializing',
  running: 'running',
  completed: 'completed',
  failed: 'failed',
  timed_out: 'failed',
  skipped: 'failed',
  cancelled: 'cancelled',
};

/** Why a session ended without completing, naming Hub's own status when claude-hub's hides it. */
export function claudeErrorOf(session: Pick<SessionView, 'status' | 'statusReason'>): string | null {
  if (!isTerminal(session.status) || session.status === 'completed') return null;
  const reason = session.statusReason ?? 'no reason recorded';
  return reason.startsWith(session.status) ? reason : `${session.status}: ${reason}`;
}

export function toClaudeSession(session: SessionView): ClaudeSession {
  return {
    id: session.id,
    type: session.type,
    status: CLAUDE_STATUS_OF[session.status],
    containerId: session.containerId,
    claudeSessionId: null,
    project: {
      repository: claudeRepositoryOf(session.repository),
      ...(session.branch ? { branch: session.branch } : {}),
    },
    dependencies: session.dependsOn,
    orchestrationId: session.orchestrationId,
    createdAt: session.createdAt,
    startedAt: session.startedAt,
    completedAt: session.finishedAt,
    output: null,
    error: claudeErrorOf(session),
  };
}

/** The dependencies a start still waits for (claude-hub's `waitingFor`). */
export function waitingForOf(statuses: { sessionId: string; status: SessionStatus }[]): string[] {
  return statuses.filter((s) => s.status !== 'completed').map((s) => s.sessionId);
}

export interface OutputSources {
  session: SessionView;
  files: OutputFile[];
  /** The container's log, null when none was stored. */
  log: string | null;
  /** The content of the files Hub inlines (@hub/hub-api's withInlinedContents), by path. */
  texts: Record<string, string>;
}

const after = (line: string, marker: string) => line.slice(line.indexOf(marker) + marker.length).trim();

/**
 * claude-hub's session output from Hub's log and output files. The log lines become `logs`, and
 * the markers claude-hub's SessionManager looks for in them ("Created file:", "Committed:",
 * "Summary:", "Next step:") mean what they mean there; each file the agent wrote to /hub/output/
 * is a `file` artifact (with its content when small and textual). Without "Summary:" lines the
 * summary is result.md, else a sentence on how the session ended.
 */
export function toClaudeOutput({ session, files, log, texts }: OutputSources): ClaudeSessionOutput {
  const logs = (log ?? '').split(/\r?\n/).filter((line) => line.trim() !== '');
  const artifacts: ClaudeArtifact[] = [];
  const summaries: string[] = [];
  const nextSteps: string[] = [];
  for (const line of logs) {
    if (line.includes('Created file:')) artifacts.push({ type: 'file', path: after(line, 'Created file:') });
    else if (line.includes('Committed:')) artifacts.push({ type: 'commit', sha: after(line, 'Committed:') });
    else if (line.includes('Summary:')) summaries.push(after(line, 'Summary:'));
    else if (line.includes('Next step:')) nextSteps.push(after(line, 'Next step:'));
  }
  for (const file of files) {
    artifacts.push({
      type: 'file',
      path: file.path,
      ...(texts[file.path] !== undefined ? { content: texts[file.path] } : {}),
      url: `/api/v1/sessions/${session.id}/output/files/${file.path.split('/').map(encodeURIComponent).join('/')}`,
      metadata: { size: file.size, sha256: file.sha256 },
    });
  }
  if (session.changes) artifacts.push(changeArtifact(session.id, session.changes));
  return { logs, artifacts, summary: summaryOf(session, files, summaries, texts), nextSteps };
}

/** What the session changed in its git workspace, as a `commit` artifact: its head, its branch and counts, the diff's URL. */
function changeArtifact(sessionId: string, changes: ChangeSummary): ClaudeArtifact {
  const { headCommit, ...metadata } = changes;
  return { type: 'commit', sha: headCommit, url: `/api/v1/sessions/${sessionId}/changes`, metadata };
}

function summaryOf(session: SessionView, files: OutputFile[], summaries: string[], texts: Record<string, string>): string {
  if (summaries.length) return summaries.join('\n');
  const result = texts['result.md']?.trim();
  if (result) return result;
  const status = CLAUDE_STATUS_OF[session.status];
  if (!isTerminal(session.status)) return `Session has no output yet: it is ${status}`;
  if (session.status !== 'completed') return `Session ${status}: ${claudeErrorOf(session)}`;
  const listed = files.length ? `: ${files.map((f) => f.path).join(', ')}` : '';
  return `Session completed with ${files.length} output file${files.length === 1 ? '' : 's'}${listed}`;
}

/** An empty output for a session that has not ended: its log and files are stored when its container exits. */
export function pendingClaudeOutput(session: SessionView): ClaudeSessionOutput {
  return toClaudeOutput({ session, files: [], log: null, texts: {} });
}

// ---- the envelope --------------------------------------------------------------------------------

/** claude-hub's WebhookProcessor answer for one handler's result. */
export function processed(event: string, result: ClaudeHandlerResult): ClaudeWebhookEnvelope {
  return { message: 'Webhook processed', event, handlerCount: 1, results: [result] };
}

/** A request no handler takes: the same envelope (the shape mcp-claude-hub builds for its own failures). */
export function rejected(event: string, error: string): ClaudeWebhookEnvelope {
  return { message: 'Webhook processing failed', event, handlerCount: 0, results: [{ success: false, error }] };
}
