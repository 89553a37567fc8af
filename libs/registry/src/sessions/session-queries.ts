import { Injectable } from '@nestjs/common';
import { ListSessionsQuery, notFound, SessionOutput, SessionPage, SessionStatus, SessionView } from '@hub/contracts';
import { SessionRecord, toSessionView } from '../store/session-record';
import { SessionStore } from '../store/session-store';

/** Read-only questions about sessions. */
@Injectable()
export class SessionQueries {
  constructor(private readonly store: SessionStore) {}

  async get(sessionId: string): Promise<SessionView> {
    return toSessionView(await this.require(sessionId));
  }

  async list(query: ListSessionsQuery): Promise<SessionPage> {
    const page = await this.store.listSessions(query);
    return { items: page.items.map(toSessionView), nextCursor: page.nextCursor };
  }

  async output(sessionId: string): Promise<SessionOutput> {
    const session = await this.require(sessionId);
    return { sessionId, status: session.status, exitCode: session.exitCode, files: session.outputFiles };
  }

  async statuses(sessionIds: string[]): Promise<{ statuses: { sessionId: string; status: SessionStatus }[] }> {
    return { statuses: await this.store.statuses(sessionIds) };
  }

  async dependents(sessionId: string) {
    return { dependents: await this.store.pendingDependents(sessionId) };
  }

  private async require(sessionId: string): Promise<SessionRecord> {
    const session = await this.store.getSession(sessionId);
    if (!session) throw notFound('session', sessionId);
    return session;
  }
}
