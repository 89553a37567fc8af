import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { forbidden, HTTP_STATUS_OF, HubError, isTerminal, MAX_ORCHESTRATION_SESSIONS, type Scope, scopeAllows } from '@hub/contracts';
import { HttpProblem, HubApi, readText } from '@hub/hub-api';
import {
  parseClaudeWebhookRequest,
  pendingClaudeOutput,
  processed,
  rejected,
  toClaudeOutput,
  toClaudeSession,
  toCreateOrchestrationRequest,
  toCreateSessionRequest,
  waitingForOf,
} from './claude-hub-mapping';
import { ClaudeHandlerResult, ClaudeRequestOf, ClaudeWebhookEnvelope, ClaudeWebhookRequest, ClaudeWebhookRequestType } from './claude-hub.schemas';

/** A listing without an orchestration id holds at most this many sessions, the newest. */
export const MAX_LISTED_SESSIONS = 1000;

/** What each request type needs of the caller's key: the reads read, the others write. */
export const CLAUDE_HUB_SCOPES: Readonly<Record<ClaudeWebhookRequestType, Scope>> = {
  'session.create': 'write',
  'session.start': 'write',
  'session.get': 'read',
  'session.list': 'read',
  'session.output': 'read',
  orchestrate: 'write',
  'orchestration.create': 'write',
};

export interface ClaudeHubAnswer {
  /**
   * 200 when the request succeeded, 207 when Hub refused it (claude-hub's "Multi-Status"), the
   * gateway's own status when it refused it itself (413: too large for Hub's message bus), 403 when
   * the caller's key may not make it (its scope), 400 when it is no claude-hub request.
   */
  httpStatus: number;
  envelope: ClaudeWebhookEnvelope;
}

/**
 * claude-hub's webhook requests, answered through HubApi, as every entrance of the gateway is. A
 * failure Hub explains (a HubError: unknown session, conflict, a service down) is a result with
 * `success: false` and Hub's message, as claude-hub's handlers report theirs; a refusal of the
 * gateway's own (an HttpProblem, e.g. 413) is the same result with that HTTP status, as REST
 * answers it; anything else is a 500.
 */
@Injectable()
export class ClaudeHubWebhook {
  constructor(
    private readonly hub: HubApi,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  /** `scope`: the caller's key's, which each request type's (CLAUDE_HUB_SCOPES) must be within. */
  async handle(body: unknown, scope: Scope): Promise<ClaudeHubAnswer> {
    const parsed = parseClaudeWebhookRequest(body);
    if (!parsed.ok) {
      this.logger.info({ event: parsed.event, problem: parsed.error }, 'claude-hub request refused');
      return parsed.httpStatus === 400
        ? { httpStatus: 400, envelope: rejected(parsed.event, parsed.error) }
        : { httpStatus: 207, envelope: processed(parsed.event, { success: false, error: parsed.error }) };
    }
    const { request } = parsed;
    this.logger.info({ event: request.type, ...('sessionId' in request ? { sessionId: request.sessionId } : {}) }, 'claude-hub request');
    try {
      const needed = CLAUDE_HUB_SCOPES[request.type];
      if (!scopeAllows(scope, needed)) throw forbidden(scope, needed, `make a ${request.type} request`);
      return { httpStatus: 200, envelope: processed(request.type, await this.answer(request)) };
    } catch (error) {
      if (!(error instanceof HubError || error instanceof HttpProblem)) throw error;
      this.logger.info({ event: request.type, code: error.code, problem: error.message }, 'claude-hub request failed');
      const httpStatus = error instanceof HttpProblem ? error.status : error.code === 'forbidden' ? HTTP_STATUS_OF.forbidden : 207;
      return { httpStatus, envelope: processed(request.type, { success: false, error: error.message }) };
    }
  }

  private answer(request: ClaudeWebhookRequest): Promise<ClaudeHandlerResult> {
    switch (request.type) {
      case 'session.create':
        return this.create(request);
      case 'session.start':
        return this.start(request.sessionId);
      case 'session.get':
        return this.get(request.sessionId);
      case 'session.list':
        return this.list(request);
      case 'session.output':
        return this.output(request.sessionId);
      case 'orchestrate':
      case 'orchestration.create':
        return this.orchestrate(request);
    }
  }

  private async create(request: ClaudeRequestOf<'session.create'>): Promise<ClaudeHandlerResult> {
    const session = await this.hub.createSession(toCreateSessionRequest(request));
    return {
      success: true,
      message: 'Session created successfully',
      data: { session: toClaudeSession(session), sessionId: session.id },
    };
  }

  private async start(sessionId: string): Promise<ClaudeHandlerResult> {
    const session = await this.hub.startSession(sessionId);
    const waitingFor = session.dependsOn.length ? waitingForOf(await this.hub.sessionStatuses(session.dependsOn)) : [];
    return waitingFor.length
      ? { success: true, message: 'Session queued, waiting for dependencies', data: { session: toClaudeSession(session), waitingFor } }
      : { success: true, message: 'Session started', data: { session: toClaudeSession(session) } };
  }

  private async get(sessionId: string): Promise<ClaudeHandlerResult> {
    const session = await this.hub.getSession(sessionId);
    return { success: true, message: 'Session found', data: { session: toClaudeSession(session) } };
  }

  /** Oldest first (claude-hub lists in creation order): all of an orchestration, else the newest MAX_LISTED_SESSIONS. */
  private async list(request: ClaudeRequestOf<'session.list'>): Promise<ClaudeHandlerResult> {
    const status = request.status && request.status !== 'all' ? request.status : undefined;
    const orchestrationId = request.orchestrationId ?? undefined;
    const found = await this.hub.collectSessions(
      orchestrationId ? { orchestrationId } : {},
      orchestrationId ? MAX_ORCHESTRATION_SESSIONS : MAX_LISTED_SESSIONS,
    );
    const sessions = found.map(toClaudeSession);
    return {
      success: true,
      message: 'Sessions retrieved',
      data: { sessions: status ? sessions.filter((s) => s.status === status) : sessions },
    };
  }

  private async output(sessionId: string): Promise<ClaudeHandlerResult> {
    const [session, { files }] = await Promise.all([this.hub.getSession(sessionId), this.hub.getSessionOutputWithContents(sessionId)]);
    const status = toClaudeSession(session).status;
    if (!isTerminal(session.status)) {
      // claude-hub answers `output: null` here, which mcp-claude-hub's get_session_output cannot read.
      return { success: true, message: 'Session has no output yet', data: { sessionId, status, output: pendingClaudeOutput(session) } };
    }
    const texts = Object.fromEntries(files.flatMap((file) => (file.content === undefined ? [] : [[file.path, file.content]])));
    const listed = files.map(({ path, size, sha256 }) => ({ path, size, sha256 }));
    const output = toClaudeOutput({ session, files: listed, log: await this.log(sessionId), texts });
    return { success: true, message: 'Session output retrieved', data: { sessionId, status, output } };
  }

  /** The session's log, or null when none was stored. */
  private async log(sessionId: string): Promise<string | null> {
    try {
      return await readText(await this.hub.sessionLog(sessionId));
    } catch (error) {
      if (error instanceof HubError && error.code === 'not_found') return null;
      throw error;
    }
  }

  private async orchestrate(request: ClaudeRequestOf<'orchestrate' | 'orchestration.create'>): Promise<ClaudeHandlerResult> {
    const orchestration = await this.hub.createOrchestration(toCreateOrchestrationRequest(request));
    return {
      success: true,
      message: 'Orchestration session created',
      data: {
        orchestrationId: orchestration.id,
        status: 'initiated',
        sessions: orchestration.sessions.map(toClaudeSession),
        summary: `Created orchestration session for ${request.project.repository}`,
      },
    };
  }
}
