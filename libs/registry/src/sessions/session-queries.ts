import { Injectable } from '@nestjs/common';
import {
  HELD_SESSIONS_PAGE,
  HeldSession,
  LEGACY_FILES_LISTED,
  ListSessionsQuery,
  notFound,
  READY_LABEL_SETS,
  ReadyLabelSet,
  SessionOutputSummary,
  SessionPage,
  SessionStatus,
  SessionView,
} from '@hub/contracts';
import { SessionRecord, toSessionView } from '../store/session-record';
import { SessionStore, TenantScope } from '../store/session-store';

/** Read-only questions about sessions: a client's see its tenant's only (another's are as if they did not exist). */
@Injectable()
export class SessionQueries {
  constructor(private readonly store: SessionStore) {}

  async get(sessionId: string, tenant: string): Promise<SessionView> {
    return toSessionView(await this.require(sessionId, tenant));
  }

  async list(query: ListSessionsQuery, tenant: string): Promise<SessionPage> {
    const page = await this.store.listSessions(query, tenant);
    return { items: page.items.map(toSessionView), nextCursor: page.nextCursor };
  }

  async output(sessionId: string, tenant: string): Promise<SessionOutputSummary> {
    const session = await this.require(sessionId, tenant);
    return {
      sessionId,
      status: session.status,
      exitCode: session.exitCode,
      reported: session.output !== null,
      legacyFiles: session.legacyOutputFiles.slice(0, LEGACY_FILES_LISTED),
      changes: session.changes,
    };
  }

  /** The statuses of those of the sessions that exist in `tenant` (EVERY_TENANT: the resolver asks about dependencies). */
  async statuses(sessionIds: string[], tenant: TenantScope): Promise<{ statuses: { sessionId: string; status: SessionStatus }[] }> {
    return { statuses: await this.store.statuses(sessionIds, tenant) };
  }

  async dependents(sessionId: string) {
    return { dependents: await this.store.pendingDependents(sessionId) };
  }

  async waiting(limit: number) {
    return { sessions: await this.store.waiting(limit) };
  }

  /** The runner labels the ready sessions wait for, by label set (a runner's readiness check). */
  async readyLabelSets(): Promise<{ labelSets: ReadyLabelSet[] }> {
    const rows = await this.store.readyLabelSets(READY_LABEL_SETS);
    return { labelSets: rows.map((row) => ({ labels: row.labels, sessions: row.sessions, readySince: row.readySince?.toISOString() ?? null })) };
  }

  /** The sessions a runner holds, a page at a time, each with what it needs to adopt its container. */
  async heldBy(runnerId: string, after?: string): Promise<{ sessions: HeldSession[]; nextAfter: string | null }> {
    const rows = await this.store.heldBy(runnerId, after, HELD_SESSIONS_PAGE + 1);
    const sessions = rows.slice(0, HELD_SESSIONS_PAGE).map((row) => ({
      ...row,
      startedAt: row.startedAt?.toISOString() ?? null,
      changedAt: row.changedAt.toISOString(),
    }));
    return { sessions, nextAfter: rows.length > HELD_SESSIONS_PAGE ? sessions[sessions.length - 1].sessionId : null };
  }

  private async require(sessionId: string, tenant: string): Promise<SessionRecord> {
    const session = await this.store.getSession(sessionId, tenant);
    if (!session) throw notFound('session', sessionId);
    return session;
  }
}
