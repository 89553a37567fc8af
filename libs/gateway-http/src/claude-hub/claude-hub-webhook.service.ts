import { Inject, Injectable } from '@nestjs/common';
import { HubLogger } from '@hub/config';
import {
  badRequest,
  HubError,
  isTerminal,
  MAX_ORCHESTRATION_SESSIONS,
  MAX_PAGE_SIZE,
  RPC,
  SessionView,
  unavailable,
} from '@hub/contracts';
import { OutputStore, RpcClient } from '@hub/messaging';
import { GATEWAY_LOGGER } from '../gateway-http.tokens';
import { OrchestrationViews } from '../orchestration-views.service';
import { SessionFiles } from '../session-files.service';
import {
  filesToInline,
  orchestrationOfDependencies,
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
import { ClaudeHandlerResult, ClaudeRequestOf, ClaudeWebhookEnvelope, ClaudeWebhookRequest } from './claude-hub.schemas';

/** A listing without an orchestration id holds at most this many sessions, the newest. */
export const MAX_LISTED_SESSIONS = 1000;

export interface ClaudeHubAnswer {
  /** 200 when the request succeeded, 207 when it failed (claude-hub's "Multi-Status"), 400 when it is no claude-hub request. */
  httpStatus: 200 | 207 | 400;
  envelope: ClaudeWebhookEnvelope;
}

/**
 * claude-hub's webhook requests, answered with Hub's own use cases: the registry's request/reply
 * subjects for sessions and orchestrations, the output store for logs and output files. A failure
 * Hub explains (a HubError: unknown session, conflict, a service down) is a result with
 * `success: false` and Hub's message, as claude-hub's handlers report theirs; anything else is a 500.
 */
@Injectable()
export class ClaudeHubWebhook {
  constructor(
    private readonly rpc: RpcClient,
    private readonly store: OutputStore,
    private readonly files: SessionFiles,
    private readonly views: OrchestrationViews,
    @Inject(GATEWAY_LOGGER) private readonly logger: HubLogger,
  ) {}

  async handle(body: unknown): Promise<ClaudeHubAnswer> {
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
      return { httpStatus: 200, envelope: processed(request.type, await this.answer(request)) };
    } catch (error) {
      if (!(error instanceof HubError)) throw error;
      this.logger.info({ event: request.type, code: error.code, problem: error.message }, 'claude-hub request failed');
      return { httpStatus: 207, envelope: processed(request.type, { success: false, error: error.message }) };
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
        return this.orchestrate(request);
    }
  }

  private async create(request: ClaudeRequestOf<'session.create'>): Promise<ClaudeHandlerResult> {
    const orchestrationId = orchestrationOfDependencies(await this.dependencies(request.session.dependencies));
    const session = await this.rpc.call(RPC.createSession, toCreateSessionRequest(request, orchestrationId));
    return {
      success: true,
      message: 'Session created successfully',
      data: { session: toClaudeSession(session), sessionId: session.id },
    };
  }

  private async dependencies(sessionIds: string[]): Promise<SessionView[]> {
    const unknown: string[] = [];
    const found = await Promise.all(
      sessionIds.map((sessionId) =>
        this.rpc.call(RPC.getSession, { sessionId }).catch((error: unknown) => {
          if (!(error instanceof HubError && error.code === 'not_found')) throw error;
          unknown.push(sessionId);
          return undefined;
        }),
      ),
    );
    if (unknown.length) throw badRequest(`dependencies name sessions that do not exist: ${unknown.join(', ')}`);
    return found.filter((session): session is SessionView => session !== undefined);
  }

  private async start(sessionId: string): Promise<ClaudeHandlerResult> {
    const session = await this.rpc.call(RPC.startSession, { sessionId });
    const waitingFor = session.dependsOn.length
      ? waitingForOf((await this.rpc.call(RPC.sessionStatuses, { sessionIds: session.dependsOn })).statuses)
      : [];
    return waitingFor.length
      ? { success: true, message: 'Session queued, waiting for dependencies', data: { session: toClaudeSession(session), waitingFor } }
      : { success: true, message: 'Session started', data: { session: toClaudeSession(session) } };
  }

  private async get(sessionId: string): Promise<ClaudeHandlerResult> {
    const session = await this.rpc.call(RPC.getSession, { sessionId });
    return { success: true, message: 'Session found', data: { session: toClaudeSession(session) } };
  }

  private async list(request: ClaudeRequestOf<'session.list'>): Promise<ClaudeHandlerResult> {
    const status = request.status && request.status !== 'all' ? request.status : undefined;
    const sessions = (await this.sessions(request.orchestrationId ?? undefined)).map(toClaudeSession);
    return {
      success: true,
      message: 'Sessions retrieved',
      data: { sessions: status ? sessions.filter((s) => s.status === status) : sessions },
    };
  }

  /** Oldest first (claude-hub lists in creation order): all of an orchestration, else the newest MAX_LISTED_SESSIONS. */
  private async sessions(orchestrationId: string | undefined): Promise<SessionView[]> {
    const max = orchestrationId ? MAX_ORCHESTRATION_SESSIONS : MAX_LISTED_SESSIONS;
    const sessions: SessionView[] = [];
    let cursor: string | undefined;
    do {
      const limit = Math.min(MAX_PAGE_SIZE, max - sessions.length);
      const page = await this.rpc.call(RPC.listSessions, { ...(orchestrationId ? { orchestrationId } : {}), limit, cursor });
      sessions.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && sessions.length < max);
    return sessions.reverse();
  }

  private async output(sessionId: string): Promise<ClaudeHandlerResult> {
    const [session, { files }] = await Promise.all([
      this.rpc.call(RPC.getSession, { sessionId }),
      this.files.output(sessionId),
    ]);
    const status = toClaudeSession(session).status;
    if (!isTerminal(session.status)) {
      // claude-hub answers `output: null` here, which mcp-claude-hub's get_session_output cannot read.
      return { success: true, message: 'Session has no output yet', data: { sessionId, status, output: pendingClaudeOutput(session) } };
    }
    const inline = filesToInline(files);
    const [log, ...contents] = await Promise.all([
      this.read(() => this.store.getLog(sessionId)),
      ...inline.map((file) => this.read(() => this.store.getFile(sessionId, file.path))),
    ]);
    const texts: Record<string, string> = {};
    inline.forEach((file, i) => {
      const content = contents[i];
      if (content) texts[file.path] = content.toString('utf8');
    });
    const output = toClaudeOutput({ session, files, log: log?.toString('utf8') ?? null, texts });
    return { success: true, message: 'Session output retrieved', data: { sessionId, status, output } };
  }

  private async orchestrate(request: ClaudeRequestOf<'orchestrate'>): Promise<ClaudeHandlerResult> {
    const summary = await this.rpc.call(RPC.createOrchestration, toCreateOrchestrationRequest(request), 30_000);
    const orchestration = await this.views.withSessions(summary);
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

  private async read(get: () => Promise<Buffer | null>): Promise<Buffer | null> {
    try {
      return await get();
    } catch (error) {
      throw unavailable(`cannot read the output store (NATS JetStream): ${(error as Error).message}`);
    }
  }
}
