import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type AuditEntry, type AuditPage, DEFAULT_PAGE_SIZE, type ListAuditQuery } from '@hub/contracts';
import { decodeCursor, encodeCursor } from '../store/cursor';
import type { NewAuditEntry } from './audit-entry-of';

/** The audit_log table: written once per audited write, read newest first. */
@Injectable()
export class AuditLog {
  constructor(private readonly dataSource: DataSource) {}

  async record(entry: NewAuditEntry): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO audit_log (key, tenant, action, target_type, target_id, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
      [entry.key, entry.tenant, entry.action, entry.targetType, entry.targetId, entry.detail === null ? null : JSON.stringify(entry.detail)],
    );
  }

  /** A page, newest first (keyset on the id, the order written); filtered by tenant, key and action. */
  async list(query: ListAuditQuery): Promise<AuditPage> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const before = query.cursor ? decodeCursor(query.cursor) : null;
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT id::text AS id, at, key, tenant, action, target_type AS "targetType", target_id AS "targetId", detail
         FROM audit_log
        WHERE ($1::text IS NULL OR tenant = $1)
          AND ($2::text IS NULL OR key = $2)
          AND ($3::text IS NULL OR action = $3)
          AND ($4::bigint IS NULL OR audit_log.id < $4)
        ORDER BY audit_log.id DESC
        LIMIT $5`,
      [query.tenant ?? null, query.key ?? null, query.action ?? null, before, limit + 1],
    );
    const page = rows.slice(0, limit).map(toEntry);
    return { items: page, nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1].id) : null };
  }
}

function toEntry(row: Record<string, unknown>): AuditEntry {
  return {
    id: row.id as string,
    at: (row.at as Date).toISOString(),
    key: row.key as string,
    tenant: row.tenant as string,
    action: row.action as string,
    targetType: (row.targetType as string | null) ?? null,
    targetId: (row.targetId as string | null) ?? null,
    detail: (row.detail as Record<string, unknown> | null) ?? null,
  };
}
