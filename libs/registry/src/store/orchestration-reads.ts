import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import {
  conflict,
  DEFAULT_PAGE_SIZE,
  notFound,
  ListOrchestrationsQuery,
  OrchestrationPage,
  OrchestrationSummary,
  SESSION_STATUSES,
  SessionCounts,
} from '@hub/contracts';
import { decodeCursor, encodeCursor } from './session-store';

/**
 * An orchestration's counts per status and its one aggregate status, computed in one place (SQL):
 * running while anything is on its way; pending while nothing is and some were never started;
 * once all ended: completed if all completed, else failed if any failed or timed out, else cancelled
 * if any was cancelled, else failed.
 */
const SUMMARY = `
  SELECT o.id, o.seq, o.name, o.max_parallel, o.created_at, c.total, c.counts,
    CASE
      WHEN c.active > 0 THEN 'running'
      WHEN c.created > 0 THEN 'pending'
      WHEN c.completed = c.total THEN 'completed'
      WHEN c.failed > 0 THEN 'failed'
      WHEN c.cancelled > 0 THEN 'cancelled'
      ELSE 'failed'
    END AS status
  FROM orchestrations o
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(n), 0)::int AS total,
           coalesce(sum(n) FILTER (WHERE status IN ('waiting', 'ready', 'starting', 'running')), 0)::int AS active,
           coalesce(sum(n) FILTER (WHERE status = 'created'), 0)::int AS created,
           coalesce(sum(n) FILTER (WHERE status = 'completed'), 0)::int AS completed,
           coalesce(sum(n) FILTER (WHERE status IN ('failed', 'timed_out')), 0)::int AS failed,
           coalesce(sum(n) FILTER (WHERE status = 'cancelled'), 0)::int AS cancelled,
           coalesce(json_object_agg(status, n), '{}'::json) AS counts
      FROM (SELECT status, count(*)::int AS n FROM sessions WHERE orchestration_id = o.id GROUP BY status) per_status
  ) c`;

/** Read-only questions about orchestrations. */
@Injectable()
export class OrchestrationReads {
  constructor(private readonly dataSource: DataSource) {}

  async summary(id: string, em: EntityManager = this.dataSource.manager): Promise<OrchestrationSummary | null> {
    const rows = await em.query(`SELECT * FROM (${SUMMARY}) x WHERE x.id = $1`, [id]);
    return rows.length ? toSummary(rows[0]) : null;
  }

  /** The orchestration's summary, for a command that needs it not to have ended: 404 or 409 otherwise. */
  async requireNotEnded(id: string, action: string, em: EntityManager): Promise<OrchestrationSummary> {
    const summary = await this.summary(id, em);
    if (!summary) throw notFound('orchestration', id);
    if (['completed', 'failed', 'cancelled'].includes(summary.status)) {
      throw conflict(`cannot ${action} orchestration ${id}: it already ended ${summary.status}`, { status: summary.status });
    }
    return summary;
  }

  async list(query: ListOrchestrationsQuery): Promise<OrchestrationPage> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.status) {
      params.push(query.status);
      where.push(`x.status = $${params.length}`);
    }
    if (query.cursor) {
      params.push(decodeCursor(query.cursor));
      where.push(`x.seq < $${params.length}`);
    }
    params.push(limit + 1);
    const rows = await this.dataSource.query(
      `SELECT * FROM (${SUMMARY}) x ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY x.seq DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit);
    return {
      items: items.map(toSummary),
      nextCursor: rows.length > limit ? encodeCursor(String(items[items.length - 1].seq)) : null,
    };
  }
}

function toSummary(row: Record<string, any>): OrchestrationSummary {
  const counts = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as SessionCounts;
  for (const [status, n] of Object.entries((row.counts ?? {}) as Record<string, number>)) {
    counts[status as keyof SessionCounts] = n;
  }
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    maxParallel: row.max_parallel,
    sessionCount: row.total,
    counts,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
