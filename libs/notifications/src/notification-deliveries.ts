import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  badRequest,
  DEFAULT_PAGE_SIZE,
  ListNotificationDeliveriesQuery,
  MAX_DELIVERY_ERROR_LENGTH,
  NotificationDelivery,
  NotificationDeliveryPage,
  NotificationDeliveryStatus,
  NotificationKind,
} from '@hub/contracts';
import { NotificationDeliveryEntity } from '@hub/persistence';

/** A delivery to record: its body is made once, when its event arrives. */
export type NewDelivery = Pick<NotificationDeliveryEntity, 'id' | 'webhook' | 'eventId' | 'kind' | 'subject' | 'payload'>;

/** A delivery claimed for an attempt. */
export interface DueDelivery {
  id: string;
  webhook: string;
  eventId: string;
  kind: NotificationKind;
  payload: string;
  /** Attempts made before this one. */
  attempts: number;
}

/** What one attempt came to, and what follows. */
export type AttemptOutcome =
  | { status: 'delivered'; statusCode: number }
  | { status: 'pending'; statusCode: number | null; error: string; retryInMs: number }
  | { status: 'failed'; statusCode: number | null; error: string };

const LISTED_COLUMNS = `id, webhook, event_id AS "eventId", kind, subject, status, attempts, last_status_code AS "lastStatusCode",
  last_error AS "lastError", next_attempt_at AS "nextAttemptAt", delivered_at AS "deliveredAt", created_at AS "createdAt",
  updated_at AS "updatedAt", floor(extract(epoch FROM created_at) * 1000000)::bigint::text AS "createdUs"`;

/**
 * The notification_deliveries table: deliveries recorded once per webhook and event, claimed when
 * due (FOR UPDATE SKIP LOCKED, so registries never send one twice at once), each attempt written back.
 */
@Injectable()
export class NotificationDeliveries {
  constructor(private readonly dataSource: DataSource) {}

  /** Records the deliveries not recorded yet (same webhook and event: left as it is); answers how many were new. */
  async record(deliveries: NewDelivery[]): Promise<number> {
    if (!deliveries.length) return 0;
    const result = await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(NotificationDeliveryEntity)
      .values(deliveries.map((delivery) => ({ ...delivery, nextAttemptAt: () => 'now()' })))
      .orIgnore()
      .returning('id')
      .updateEntity(false)
      .execute();
    return (result.raw as unknown[]).length;
  }

  /**
   * Claims up to `limit` due deliveries, oldest due first, for `leaseMs`: nobody else takes them
   * meanwhile, and a registry that dies holding them leaves them due again once the lease is over.
   */
  async claimDue(limit: number, leaseMs: number): Promise<DueDelivery[]> {
    const result: unknown[] = await this.dataSource.query(
      `UPDATE notification_deliveries d
          SET next_attempt_at = now() + $2 * interval '1 millisecond'
        WHERE d.id IN (SELECT id FROM notification_deliveries
                        WHERE status = 'pending' AND next_attempt_at <= now()
                        ORDER BY next_attempt_at
                        LIMIT $1
                        FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d.webhook, d.event_id AS "eventId", d.kind, d.payload, d.attempts`,
      [limit, leaseMs],
    );
    // An UPDATE … RETURNING answers [rows, count].
    return (Array.isArray(result[0]) ? result[0] : result) as DueDelivery[];
  }

  /** Writes one attempt's outcome: one more attempt, its status code and error, and when the next is due. */
  async recordAttempt(id: string, outcome: AttemptOutcome): Promise<void> {
    const error = outcome.status === 'delivered' ? null : bounded(outcome.error);
    await this.dataSource.query(
      `UPDATE notification_deliveries
          SET attempts = attempts + 1,
              status = $2,
              last_status_code = $3,
              last_error = $4,
              next_attempt_at = CASE WHEN $2 = 'pending' THEN now() + $5 * interval '1 millisecond' END,
              delivered_at = CASE WHEN $2 = 'delivered' THEN now() END,
              updated_at = now()
        WHERE id = $1`,
      [id, outcome.status, outcome.statusCode, error, outcome.status === 'pending' ? outcome.retryInMs : null],
    );
  }

  /** A page, newest first (keyset: created_at, then id), without bodies. */
  async list(query: ListNotificationDeliveriesQuery): Promise<NotificationDeliveryPage> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? decodeDeliveryCursor(query.cursor) : null;
    const rows: (Record<string, unknown> & { createdUs: string })[] = await this.dataSource.query(
      `SELECT ${LISTED_COLUMNS}
         FROM notification_deliveries
        WHERE ($1::text[] IS NULL OR status = ANY($1))
          AND ($2::text IS NULL OR webhook = $2)
          AND ($3::text[] IS NULL OR kind = ANY($3))
          AND ($4::bigint IS NULL OR (created_at, id) < (timestamptz 'epoch' + $4::bigint * interval '1 microsecond', $5::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $6`,
      [query.status ?? null, query.webhook ?? null, query.kind ?? null, after?.createdUs ?? null, after?.id ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toDelivery),
      nextCursor: rows.length > limit ? encodeDeliveryCursor(last.createdUs, last.id as string) : null,
    };
  }
}

function toDelivery(row: Record<string, unknown>): NotificationDelivery {
  const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : null);
  return {
    id: row.id as string,
    webhook: row.webhook as string,
    eventId: row.eventId as string,
    kind: row.kind as NotificationKind,
    subject: row.subject as string,
    status: row.status as NotificationDeliveryStatus,
    attempts: row.attempts as number,
    lastStatusCode: (row.lastStatusCode as number | null) ?? null,
    lastError: (row.lastError as string | null) ?? null,
    nextAttemptAt: iso(row.nextAttemptAt),
    deliveredAt: iso(row.deliveredAt),
    createdAt: iso(row.createdAt)!,
    updatedAt: iso(row.updatedAt)!,
  };
}

/** An error as kept: one line, no control characters, at most MAX_DELIVERY_ERROR_LENGTH characters. */
function bounded(error: string): string {
  const line = error.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > MAX_DELIVERY_ERROR_LENGTH ? `${line.slice(0, MAX_DELIVERY_ERROR_LENGTH - 1)}…` : line;
}

/** A page's cursor: the last delivery's creation (microseconds) and id, 24 bytes, base64url. Opaque to clients. */
export function encodeDeliveryCursor(createdUs: string, id: string): string {
  const bytes = Buffer.alloc(24);
  bytes.writeBigInt64BE(BigInt(createdUs));
  Buffer.from(id.replace(/-/g, ''), 'hex').copy(bytes, 8);
  return bytes.toString('base64url');
}

export function decodeDeliveryCursor(cursor: string): { createdUs: string; id: string } {
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.length !== 24 || bytes.toString('base64url') !== cursor) {
    throw badRequest('invalid query: cursor is not one this API returned');
  }
  const hex = bytes.subarray(8).toString('hex');
  return {
    createdUs: bytes.readBigInt64BE().toString(),
    id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
  };
}
