import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type ApiKey, type ApiKeyPage, badRequest, conflict, DEFAULT_PAGE_SIZE, type ListApiKeysQuery, type Scope } from '@hub/contracts';

/** A key to store: the hash of its secret, never its token. */
export interface NewApiKey {
  id: string;
  name: string;
  scope: Scope;
  tenant: string;
  secretHash: Buffer;
  createdBy: string;
}

/** A key not revoked, as verifying a token needs it. */
export interface LiveApiKey {
  name: string;
  scope: Scope;
  tenant: string;
  secretHash: Buffer;
  /** Whether last_used_at is a minute old or more (or unset): then it is updated. */
  stale: boolean;
}

const VIEW_COLUMNS = `id, name, scope, tenant, created_at AS "createdAt", created_by AS "createdBy", revoked_at AS "revokedAt",
  last_used_at AS "lastUsedAt", floor(extract(epoch FROM created_at) * 1000000)::bigint::text AS "createdUs"`;

const UNIQUE_VIOLATION = '23505';

/** The api_keys table. */
@Injectable()
export class ApiKeyStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores a new key; conflict when a key not revoked has its name. */
  async insert(key: NewApiKey): Promise<ApiKey> {
    try {
      const [row] = await this.dataSource.query(
        `INSERT INTO api_keys (id, name, scope, tenant, secret_hash, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${VIEW_COLUMNS}`,
        [key.id, key.name, key.scope, key.tenant, key.secretHash, key.createdBy],
      );
      return toApiKey(row);
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw conflict(`an API key named ${key.name} exists (revoke it first)`);
      throw error;
    }
  }

  /** A page, newest first (keyset: created_at, then id), revoked keys too. */
  async list(query: ListApiKeysQuery): Promise<ApiKeyPage> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? decodeKeyCursor(query.cursor) : null;
    const rows: (Record<string, unknown> & { createdUs: string; id: string })[] = await this.dataSource.query(
      `SELECT ${VIEW_COLUMNS}
         FROM api_keys
        WHERE ($1::text IS NULL OR tenant = $1)
          AND ($2::bigint IS NULL OR (created_at, id) < (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $4`,
      [query.tenant ?? null, after?.createdUs ?? null, after?.id ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map(toApiKey), nextCursor: rows.length > limit ? encodeKeyCursor(last.createdUs, last.id) : null };
  }

  /** Revokes it (a key revoked already stays as it was); null when there is no such key. */
  async revoke(id: string): Promise<ApiKey | null> {
    await this.dataSource.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
    const [row] = await this.dataSource.query(`SELECT ${VIEW_COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return row ? toApiKey(row) : null;
  }

  /** The key `id`, unless it is revoked or does not exist. */
  async findLive(id: string): Promise<LiveApiKey | null> {
    const [row] = await this.dataSource.query(
      `SELECT name, scope, tenant, secret_hash AS "secretHash",
              (last_used_at IS NULL OR last_used_at <= now() - interval '1 minute') AS stale
         FROM api_keys WHERE id = $1 AND revoked_at IS NULL`,
      [id],
    );
    return (row as LiveApiKey | undefined) ?? null;
  }

  /** Records a use, at most once a minute per key (the condition is checked again, so racing requests write once). */
  async touch(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= now() - interval '1 minute')`,
      [id],
    );
  }
}

function toApiKey(row: Record<string, unknown>): ApiKey {
  const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : null);
  return {
    id: row.id as string,
    name: row.name as string,
    scope: row.scope as Scope,
    tenant: row.tenant as string,
    createdAt: iso(row.createdAt)!,
    createdBy: row.createdBy as string,
    revokedAt: iso(row.revokedAt),
    lastUsedAt: iso(row.lastUsedAt),
  };
}

/** A page's cursor: the last key's creation (microseconds) and id, 24 bytes, base64url. Opaque to clients. */
function encodeKeyCursor(createdUs: string, id: string): string {
  const bytes = Buffer.alloc(24);
  bytes.writeBigInt64BE(BigInt(createdUs));
  Buffer.from(id.replace(/-/g, ''), 'hex').copy(bytes, 8);
  return bytes.toString('base64url');
}

function decodeKeyCursor(cursor: string): { createdUs: string; id: string } {
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.length !== 24 || bytes.toString('base64url') !== cursor) throw badRequest('invalid query: cursor is not one this API returned');
  const hex = bytes.subarray(8).toString('hex');
  return {
    createdUs: bytes.readBigInt64BE().toString(),
    id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
  };
}
