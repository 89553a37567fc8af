import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { USAGE_SUMMARY_KEYS, UsageSummary, UsageSummaryQuery, usageSummarySince } from '@hub/contracts';
import { OrchestrationEntity } from '@hub/persistence';
import { sqlNames } from '../store/sql-names';

/** One row of summarySql: a listed key's sums, the others' (`listed` false), or the tenant's total (`is_total`). */
interface SumRow {
  is_total: boolean;
  listed: boolean | null;
  key: string | null;
  keys: number;
  orchestrations: string;
  input: string;
  output: string;
  cache_read: string;
  cache_write: string;
  total: string;
  cost_usd: number | null;
}

/**
 * What a tenant's orchestrations ($1) created since $2 (null: ever) spent, summed from each one's
 * `usage` (jsonb, added up as its sessions report): per creating key, the $3 keys that spent most
 * tokens listed, the rest in one row, and the total (the empty grouping set). A cost sums only the
 * orchestrations that reported one: null when none did.
 */
function summarySql(em: EntityManager): string {
  const o = sqlNames(em, OrchestrationEntity);
  const tokens = (kind: string) => `coalesce(sum((o.${o.usage}->'tokens'->>'${kind}')::bigint), 0)`;
  return `
  WITH per_key AS (
    SELECT o.${o.createdBy} AS key, count(*) AS orchestrations,
           ${tokens('input')} AS input, ${tokens('output')} AS output, ${tokens('cacheRead')} AS cache_read,
           ${tokens('cacheWrite')} AS cache_write, ${tokens('total')} AS total,
           sum((o.${o.usage}->>'costUsd')::numeric) AS cost_usd
      FROM ${o.$table} o
     WHERE o.${o.tenant} = $1 AND ($2::timestamptz IS NULL OR o.${o.createdAt} >= $2)
     GROUP BY o.${o.createdBy}
  ), ranked AS (
    SELECT *, row_number() OVER (ORDER BY total DESC, key ASC NULLS LAST) <= $3 AS listed FROM per_key
  )
  SELECT GROUPING(listed) = 1 AS is_total, listed, CASE WHEN listed THEN key END AS key, count(*)::int AS keys,
         coalesce(sum(orchestrations), 0)::text AS orchestrations,
         coalesce(sum(input), 0)::text AS input, coalesce(sum(output), 0)::text AS output,
         coalesce(sum(cache_read), 0)::text AS cache_read, coalesce(sum(cache_write), 0)::text AS cache_write,
         coalesce(sum(total), 0)::text AS total, round(sum(cost_usd), 6)::float8 AS cost_usd
    FROM ranked
   GROUP BY GROUPING SETS ((listed, CASE WHEN listed THEN key END), ())`;
}

/** What a tenant spent, per API key that created its orchestrations (`GET /api/v1/usage`). */
@Injectable()
export class UsageQueries {
  constructor(private readonly dataSource: DataSource) {}

  async summary(query: UsageSummaryQuery, tenant: string): Promise<UsageSummary> {
    const since = usageSummarySince(query);
    const em = this.dataSource.manager;
    const rows: SumRow[] = await em.query(summarySql(em), [tenant, since, USAGE_SUMMARY_KEYS]);
    const total = rows.find((row) => row.is_total)!;
    const others = rows.find((row) => !row.is_total && row.listed === false);
    const byKey = rows
      .filter((row) => !row.is_total && row.listed)
      .map((row) => ({ key: row.key, orchestrations: Number(row.orchestrations), usage: usageOfRow(row) }))
      .sort((a, b) => b.usage.tokens.total - a.usage.tokens.total || byName(a.key, b.key));
    return {
      tenant,
      since: since?.toISOString() ?? null,
      orchestrations: Number(total.orchestrations),
      total: usageOfRow(total),
      byKey,
      others: others ? { keys: others.keys, orchestrations: Number(others.orchestrations), usage: usageOfRow(others) } : null,
    };
  }
}

function usageOfRow(row: SumRow): UsageSummary['total'] {
  return {
    tokens: {
      input: Number(row.input),
      output: Number(row.output),
      cacheRead: Number(row.cache_read),
      cacheWrite: Number(row.cache_write),
      total: Number(row.total),
    },
    costUsd: row.cost_usd === null ? null : Number(row.cost_usd),
  };
}

/** Keys by name, the unnamed (made before keys were recorded) last. */
function byName(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}
