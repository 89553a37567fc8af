import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventEnvelope, ListSessionsQuery, SessionStatus, DEFAULT_PAGE_SIZE, badRequest } from '@hub/contracts';
import { SessionChanges, SessionRecord } from './session-record';

export interface NewOrchestration {
  id: string;
  name: string;
  maxParallel: number | null;
}

export interface NewSession {
  id: string;
  orchestrationId: string;
  name: string | null;
  type: string;
  prompt: string;
  image: string;
  repository: string | null;
  branch: string | null;
  timeoutSeconds: number;
  dependsOn: string[];
}

export interface PendingDependent {
  sessionId: string;
  status: SessionStatus;
  dependencies: { sessionId: string; status: SessionStatus }[];
}

export interface CompareAndSetResult {
  record: SessionRecord;
  previousStatus: SessionStatus;
}

/** Column of each field a transition may set. Only these columns are ever written by a transition. */
const CHANGE_COLUMNS: Record<Exclude<keyof SessionChanges, 'incrementAttempt'>, string> = {
  statusReason: 'status_reason',
  exitCode: 'exit_code',
  oomKilled: 'oom_killed',
  containerId: 'container_id',
  runnerId: 'runner_id',
  outputFiles: 'output_files',
  logBytes: 'log_bytes',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
};

const SESSION_COLUMNS = `s.*, coalesce((SELECT array_agg(d.depends_on_id::text ORDER BY d.depends_on_id)
  FROM session_dependencies d WHERE d.session_id = s.id), '{}') AS depends_on`;

/** What one transaction may do. Everything in it commits together or not at all. */
export class SessionTransaction {
  constructor(private readonly em: EntityManager) {}

  async orchestrationExists(id: string): Promise<boolean> {
    const rows = await this.em.query(`SELECT 1 FROM orchestrations WHERE id = $1`, [id]);
    return rows.length > 0;
  }

  async insertOrchestration(o: NewOrchestration): Promise<void> {
    await this.em.query(`INSERT INTO orchestrations (id, name, max_parallel) VALUES ($1, $2, $3)`, [
      o.id,
      o.name,
      o.maxParallel,
    ]);
  }

  async insertSession(s: NewSession): Promise<SessionRecord> {
    await this.em.query(
      `INSERT INTO sessions (id, orchestration_id, name, type, prompt, image, repository, branch, timeout_seconds, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'created')`,
      [s.id, s.orchestrationId, s.name, s.type, s.prompt, s.image, s.repository, s.branch, s.timeoutSeconds],
    );
    if (s.dependsOn.length) {
      await this.em.query(
        `INSERT INTO session_dependencies (session_id, depends_on_id) SELECT $1, unnest($2::uuid[])`,
        [s.id, s.dependsOn],
      );
    }
    return (await this.getSession(s.id))!;
  }

  /** The orchestration of each given session id that exists. */
  async orchestrationsOf(ids: string[]): Promise<Map<string, string>> {
    const rows: { id: string; orchestration_id: string }[] = await this.em.query(
      `SELECT id, orchestration_id FROM sessions WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.orchestration_id]));
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const rows = await this.em.query(`SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = $1`, [id]);
    return rows.length ? toRecord(rows[0]) : null;
  }

  /**
   * Moves a session to `to` only if its status is one of `from`; returns null when it is not
   * (someone else moved it first, or the move is not allowed). The row stays locked until commit.
   */
  async compareAndSet(
    id: string,
    from: readonly SessionStatus[],
    to: SessionStatus,
    changes: SessionChanges,
  ): Promise<CompareAndSetResult | null> {
    const params: unknown[] = [id, to, from];
    const sets = ['status = $2', 'updated_at = now()'];
    for (const [field, column] of Object.entries(CHANGE_COLUMNS)) {
      const value = changes[field as keyof typeof CHANGE_COLUMNS];
      if (value === undefined) continue;
      params.push(field === 'outputFiles' ? JSON.stringify(value) : value);
      sets.push(`${column} = $${params.length}`);
    }
    if (changes.incrementAttempt) sets.push('attempt = s.attempt + 1');
    const rows = await this.em.query(
      `WITH previous AS (SELECT id, status FROM sessions WHERE id = $1 FOR UPDATE)
       UPDATE sessions s SET ${sets.join(', ')}
       FROM previous WHERE s.id = previous.id AND previous.status = ANY($3::text[])
       RETURNING previous.status AS previous_status`,
      params,
    );
    const updated = Array.isArray(rows[0]) ? rows[0] : rows;
    if (!updated.length) return null;
    const record = (await this.getSession(id))!;
    return { record, previousStatus: updated[0].previous_status };
  }

  async appendEvents(envelopes: EventEnvelope[]): Promise<void> {
    if (!envelopes.length) return;
    await this.em.query(
      `INSERT INTO outbox (event_id, subject, envelope)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])`,
      [envelopes.map((e) => e.id), envelopes.map((e) => e.subject), envelopes.map((e) => JSON.stringify(e))],
    );
  }
}

/** The session tables, in PostgreSQL. Only the registry holds one. */
@Injectable()
export class SessionStore {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: SessionTransaction) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((em) => work(new SessionTransaction(em)));
  }

  getSession(id: string): Promise<SessionRecord | null> {
    return new SessionTransaction(this.dataSource.manager).getSession(id);
  }

  async listSessions(query: ListSessionsQuery): Promise<{ items: SessionRecord[]; nextCursor: string | null }> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (query.orchestrationId) add('s.orchestration_id = ?', query.orchestrationId);
    if (query.status) add('s.status = ?', query.status);
    if (query.type) add('s.type = ?', query.type);
    if (query.cursor) add('s.seq < ?', decodeCursor(query.cursor));
    params.push(limit + 1);
    const rows = await this.dataSource.query(
      `SELECT ${SESSION_COLUMNS} FROM sessions s
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY s.seq DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit).map(toRecord);
    const nextCursor = rows.length > limit ? encodeCursor(items[items.length - 1].seq) : null;
    return { items, nextCursor };
  }

  async statuses(ids: string[]): Promise<{ sessionId: string; status: SessionStatus }[]> {
    const rows: { id: string; status: SessionStatus }[] = await this.dataSource.query(
      `SELECT id, status FROM sessions WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return rows.map((r) => ({ sessionId: r.id, status: r.status }));
  }

  /**
   * The sessions that depend on `sessionId` and have not started, each with the status of every
   * one of its dependencies. Cost follows the number of dependents, not the orchestration's size.
   */
  async pendingDependents(sessionId: string): Promise<PendingDependent[]> {
    const rows: { session_id: string; status: SessionStatus; dependencies: { sessionId: string; status: SessionStatus }[] }[] =
      await this.dataSource.query(
        `SELECT s.id AS session_id, s.status,
                (SELECT json_agg(json_build_object('sessionId', dep.id, 'status', dep.status))
                   FROM session_dependencies dd JOIN sessions dep ON dep.id = dd.depends_on_id
                  WHERE dd.session_id = s.id) AS dependencies
           FROM session_dependencies d JOIN sessions s ON s.id = d.session_id
          WHERE d.depends_on_id = $1 AND s.status IN ('created', 'waiting')`,
        [sessionId],
      );
    return rows.map((r) => ({ sessionId: r.session_id, status: r.status, dependencies: r.dependencies ?? [] }));
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}

function encodeCursor(seq: string): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^s\d{1,19}$/.test(decoded)) throw badRequest('invalid query: cursor is not one this API returned');
  return decoded.slice(1);
}

function toRecord(row: Record<string, any>): SessionRecord {
  return {
    id: row.id,
    seq: String(row.seq),
    orchestrationId: row.orchestration_id,
    name: row.name,
    type: row.type,
    prompt: row.prompt,
    image: row.image,
    repository: row.repository,
    branch: row.branch,
    timeoutSeconds: row.timeout_seconds,
    status: row.status,
    statusReason: row.status_reason,
    exitCode: row.exit_code,
    oomKilled: row.oom_killed,
    containerId: row.container_id,
    runnerId: row.runner_id,
    attempt: row.attempt,
    outputFiles: row.output_files ?? [],
    logBytes: row.log_bytes,
    createdAt: new Date(row.created_at),
    startedAt: row.started_at ? new Date(row.started_at) : null,
    finishedAt: row.finished_at ? new Date(row.finished_at) : null,
    dependsOn: row.depends_on ?? [],
  };
}
