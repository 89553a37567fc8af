import { EntityManager } from 'typeorm';
import {
  ACTIVE_STATUSES,
  DEFAULT_PAGE_SIZE,
  ListOrchestrationsQuery,
  MAX_SKIP_CAUSES,
  OrchestrationPage,
  OrchestrationResult,
  OrchestrationSummary,
  SESSION_STATUSES,
  SessionCounts,
  SessionStatus,
  NO_USAGE,
} from '@hub/contracts';
import { OrchestrationEntity, SessionAttemptEntity, SessionDependencyEntity, SessionEntity } from '@hub/persistence';
import { budgetStatus } from '../budgets/budget-admission';
import { decodeCursor, encodeCursor } from './cursor';
import { sqlNames } from './sql-names';

/** The sessions each count of the aggregate status takes: SUMMARY's parameters $1 to $5. */
const COUNTED: readonly (readonly SessionStatus[])[] = [ACTIVE_STATUSES, ['created'], ['completed'], ['failed', 'timed_out'], ['cancelled']];

/**
 * An orchestration's counts per status and its one aggregate status, computed in one place (SQL):
 * running while anything is on its way; pending while nothing is and some were never started;
 * once all ended: completed if all completed, else failed if any failed or timed out, else cancelled
 * if any was cancelled, else failed. Takes the COUNTED sets as $1 to $5.
 */
function summarySql(em: EntityManager): string {
  const o = sqlNames(em, OrchestrationEntity);
  const s = sqlNames(em, SessionEntity);
  return `
  SELECT o.${o.id} AS id, o.${o.seq} AS seq, o.${o.tenant} AS tenant, o.${o.name} AS name, o.${o.maxParallel} AS "maxParallel",
         o.${o.createdAt} AS "createdAt", o.${o.publishBranch} AS "publishBranch", c.total, c.counts,
         o.${o.usage} AS usage, o.${o.budget} AS budget,
         CASE WHEN o.${o.budget} IS NOT NULL THEN (${largestAttemptSql(em, `o.${o.id}`)}) END AS "largestAttempt",
    CASE
      WHEN c.active > 0 THEN 'running'
      WHEN c.created > 0 THEN 'pending'
      WHEN c.completed = c.total THEN 'completed'
      WHEN c.failed > 0 THEN 'failed'
      WHEN c.cancelled > 0 THEN 'cancelled'
      ELSE 'failed'
    END AS status
  FROM ${o.$table} o
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(n), 0)::int AS total,
           coalesce(sum(n) FILTER (WHERE status = ANY($1)), 0)::int AS active,
           coalesce(sum(n) FILTER (WHERE status = ANY($2)), 0)::int AS created,
           coalesce(sum(n) FILTER (WHERE status = ANY($3)), 0)::int AS completed,
           coalesce(sum(n) FILTER (WHERE status = ANY($4)), 0)::int AS failed,
           coalesce(sum(n) FILTER (WHERE status = ANY($5)), 0)::int AS cancelled,
           coalesce(json_object_agg(status, n), '{}'::json) AS counts
      FROM (SELECT ${s.status} AS status, count(*)::int AS n FROM ${s.$table}
             WHERE ${s.orchestrationId} = o.${o.id} GROUP BY ${s.status}) per_status
  ) c`;
}

/**
 * The most one attempt of orchestration `orchestrationId` (an SQL expression) spent, per budget cap:
 * `{ tokens, usd }`, each null when no attempt reported it.
 */
export function largestAttemptSql(em: EntityManager, orchestrationId: string): string {
  const s = sqlNames(em, SessionEntity);
  const a = sqlNames(em, SessionAttemptEntity);
  return `SELECT json_build_object('tokens', max((a.${a.usage}->'tokens'->>'total')::bigint), 'usd', max((a.${a.usage}->>'costUsd')::float8))
      FROM ${a.$table} a JOIN ${s.$table} spent ON spent.${s.id} = a.${a.sessionId}
     WHERE spent.${s.orchestrationId} = ${orchestrationId} AND a.${a.usage} IS NOT NULL`;
}

/** The orchestration's summary; null when it does not exist (in `tenant`, unless that is null: in any). */
export async function readOrchestrationSummary(em: EntityManager, id: string, tenant: string | null): Promise<OrchestrationSummary | null> {
  const rows = await em.query(`SELECT * FROM (${summarySql(em)}) x WHERE x.id = $6 AND ($7::text IS NULL OR x.tenant = $7)`, [
    ...COUNTED,
    id,
    tenant,
  ]);
  if (!rows.length) return null;
  const summary = { ...toSummary(rows[0]), result: await readResult(em, id) };
  return summary.counts.skipped > 0 ? { ...summary, causes: await readSkipCauses(em, id) } : summary;
}

/** What the orchestration produced, as a runner reported it (null until then). */
async function readResult(em: EntityManager, id: string): Promise<OrchestrationResult | null> {
  const row = await em.findOne(OrchestrationEntity, { select: { id: true, result: true }, where: { id } });
  return row?.result ?? null;
}

/**
 * The root causes of an orchestration's skips: the sessions that ended without completing (and were
 * not skipped themselves) on which a skipped session depends, directly or through other skips.
 */
async function readSkipCauses(em: EntityManager, orchestrationId: string): Promise<NonNullable<OrchestrationSummary['causes']>> {
  const s = sqlNames(em, SessionEntity);
  const d = sqlNames(em, SessionDependencyEntity);
  const rows: Record<string, any>[] = await em.query(
    `WITH RECURSIVE blocked(session_id, cause_id) AS (
       SELECT d.${d.sessionId}, d.${d.dependsOnId}
         FROM ${d.$table} d JOIN ${s.$table} skipped ON skipped.${s.id} = d.${d.sessionId}
        WHERE skipped.${s.orchestrationId} = $1 AND skipped.${s.status} = $4
       UNION
       SELECT b.session_id, d.${d.dependsOnId}
         FROM blocked b JOIN ${s.$table} via ON via.${s.id} = b.cause_id AND via.${s.status} = $4
         JOIN ${d.$table} d ON d.${d.sessionId} = via.${s.id})
     SELECT c.${s.id} AS id, c.${s.name} AS name, c.${s.status} AS status, c.${s.statusReason} AS reason,
            count(DISTINCT b.session_id)::int AS skipped
       FROM blocked b JOIN ${s.$table} c ON c.${s.id} = b.cause_id
      WHERE c.${s.status} = ANY($2)
      GROUP BY c.${s.id}, c.${s.name}, c.${s.status}, c.${s.statusReason}
      ORDER BY skipped DESC, c.${s.id} LIMIT $3`,
    [orchestrationId, SKIP_CAUSING, MAX_SKIP_CAUSES, SKIPPED],
  );
  return rows.map((r) => ({ sessionId: r.id, name: r.name, status: r.status, reason: r.reason, skipped: r.skipped }));
}

const SKIPPED: SessionStatus = 'skipped';
/** The statuses that make a dependent skip (skipped itself passes the cause on). */
const SKIP_CAUSING: readonly SessionStatus[] = ['failed', 'cancelled', 'timed_out'];

/** The tenant's orchestrations newest first, keyset-paginated by `seq`, optionally only those in one aggregate status. */
export async function readOrchestrationPage(em: EntityManager, query: ListOrchestrationsQuery, tenant: string): Promise<OrchestrationPage> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const params: unknown[] = [...COUNTED, tenant];
  const where: string[] = [`x.tenant = $${params.length}`];
  if (query.status) {
    params.push(query.status);
    where.push(`x.status = ANY($${params.length})`);
  }
  if (query.cursor) {
    params.push(decodeCursor(query.cursor));
    where.push(`x.seq < $${params.length}`);
  }
  params.push(limit + 1);
  const rows = await em.query(
    `SELECT * FROM (${summarySql(em)}) x WHERE ${where.join(' AND ')}
     ORDER BY x.seq DESC LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, limit);
  return {
    items: items.map(toSummary),
    nextCursor: rows.length > limit ? encodeCursor(String(items[items.length - 1].seq)) : null,
  };
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
    maxParallel: row.maxParallel,
    sessionCount: row.total,
    counts,
    createdAt: new Date(row.createdAt).toISOString(),
    publish: row.publishBranch ? { branch: row.publishBranch } : null,
    usage: row.usage ?? NO_USAGE,
    budget: row.budget ? budgetStatus(row.budget, row.usage ?? NO_USAGE, { tokens: null, usd: null, ...row.largestAttempt }) : null,
  };
}
