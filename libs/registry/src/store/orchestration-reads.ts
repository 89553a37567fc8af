import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { conflict, notFound, ListOrchestrationsQuery, OrchestrationPage, OrchestrationSummary } from '@hub/contracts';
import { readOrchestrationPage, readOrchestrationSummary } from './orchestration-summary';
import type { SessionRecord } from './session-record';
import { EVERY_TENANT, SessionStore, type SessionReads, type TenantScope } from './session-store';

/** Read-only questions about orchestrations. */
@Injectable()
export class OrchestrationReads {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sessions: SessionStore,
  ) {}

  /** The orchestration's summary; `reads`: a use case's transaction, to see its writes. */
  summary(id: string, reads?: SessionReads): Promise<OrchestrationSummary | null> {
    return reads ? reads.orchestrationSummary(id) : readOrchestrationSummary(this.dataSource.manager, id, EVERY_TENANT);
  }

  /**
   * The orchestration's summary and up to `page.limit` of its sessions (in the order declared,
   * after `page.cursor`), read in one REPEATABLE READ transaction: both statements see the same
   * snapshot, so the counts and the aggregate status agree with the sessions' statuses.
   */
  withSessions(
    id: string,
    page: { cursor?: string; limit: number },
    tenant: TenantScope,
  ): Promise<{ summary: OrchestrationSummary; sessions: SessionRecord[] } | null> {
    return this.sessions.read(async (reads) => {
      const summary = await reads.orchestrationSummary(id, tenant);
      return summary && { summary, sessions: await reads.orchestrationSessions(id, page) };
    });
  }

  /** The tenant's orchestration's summary, for a command that needs it not to have ended: 404 or 409 otherwise. */
  async requireNotEnded(id: string, tenant: string, action: string, reads: SessionReads): Promise<OrchestrationSummary> {
    const summary = await reads.orchestrationSummary(id, tenant);
    if (!summary) throw notFound('orchestration', id);
    if (['completed', 'failed', 'cancelled'].includes(summary.status)) {
      throw conflict(`cannot ${action} orchestration ${id}: it already ended ${summary.status}`, { status: summary.status });
    }
    return summary;
  }

  list(query: ListOrchestrationsQuery, tenant: string): Promise<OrchestrationPage> {
    return readOrchestrationPage(this.dataSource.manager, query, tenant);
  }
}
