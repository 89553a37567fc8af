import { Inject, Injectable } from '@nestjs/common';
import { ListSessionsQuery, notFound, SessionOutput, SessionPage, SessionStatus, SessionView } from '@hub/contracts';
import { SessionRecord, toSessionView } from '../store/session-record';
import { SessionStore } from '../store/session-store';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';
import { preambleFor } from './session-template';
import { toSessionSpec } from './session-spec';

/** Read-only questions about sessions. */
@Injectable()
export class SessionQueries {
  constructor(
    private readonly store: SessionStore,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

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

  async waiting(limit: number) {
    return { sessions: await this.store.waiting(limit) };
  }

  /** The sessions a runner holds, each with the spec it needs to adopt its container. */
  async heldBy(runnerId: string) {
    const records = await this.store.heldBy(runnerId);
    const sessions = await Promise.all(
      records.map(async (record) => ({
        spec: toSessionSpec(record, preambleFor(this.settings, record.type), await this.store.inputsOf(record.id)),
        status: record.status,
        startedAt: record.startedAt?.toISOString() ?? null,
        changedAt: record.updatedAt.toISOString(),
      })),
    );
    return { sessions };
  }

  private async require(sessionId: string): Promise<SessionRecord> {
    const session = await this.store.getSession(sessionId);
    if (!session) throw notFound('session', sessionId);
    return session;
  }
}
