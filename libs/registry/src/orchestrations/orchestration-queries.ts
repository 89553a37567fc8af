import { Injectable } from '@nestjs/common';
import {
  ListOrchestrationsQuery,
  notFound,
  ORCHESTRATION_VIEW_MAX_BYTES,
  ORCHESTRATION_VIEW_SESSIONS,
  OrchestrationPage,
  OrchestrationView,
  OrchestrationViewQuery,
  SessionView,
} from '@hub/contracts';
import { OrchestrationReads } from '../store/orchestration-reads';
import { toSessionView } from '../store/session-record';
import { encodeCursor, TenantScope } from '../store/session-store';

@Injectable()
export class OrchestrationQueries {
  constructor(private readonly reads: OrchestrationReads) {}

  /**
   * The orchestration and a page of its sessions, in the order declared, read in one snapshot; one
   * of another tenant than `tenant` (EVERY_TENANT: a runner asks) is one that does not exist.
   * The page holds `limit` sessions (ORCHESTRATION_VIEW_SESSIONS by default), fewer when they would
   * pass ORCHESTRATION_VIEW_MAX_BYTES (never none), so the answer always fits one NATS message.
   */
  async get(orchestrationId: string, page: OrchestrationViewQuery, tenant: TenantScope): Promise<OrchestrationView> {
    const limit = page.limit ?? ORCHESTRATION_VIEW_SESSIONS;
    const read = await this.reads.withSessions(orchestrationId, { cursor: page.cursor, limit: limit + 1 }, tenant);
    if (!read) throw notFound('orchestration', orchestrationId);
    const sessions: SessionView[] = [];
    let bytes = 0;
    for (const record of read.sessions.slice(0, limit)) {
      const view = toSessionView(record);
      bytes += Buffer.byteLength(JSON.stringify(view));
      if (sessions.length && bytes > ORCHESTRATION_VIEW_MAX_BYTES) break;
      sessions.push(view);
    }
    const more = read.sessions.length > sessions.length;
    return { ...read.summary, sessions, nextCursor: more ? encodeCursor(read.sessions[sessions.length - 1].seq) : null };
  }

  /** The tenant's orchestrations. */
  list(query: ListOrchestrationsQuery, tenant: string): Promise<OrchestrationPage> {
    return this.reads.list(query, tenant);
  }
}
