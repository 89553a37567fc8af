import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { badRequest, DEFAULT_PAGE_SIZE, EventEnvelope, ListSessionsQuery, SessionStatus } from '@hub/contracts';
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
  retries: number;
  dependsOn: string[];
}

/** A session a bulk move changed, with what its events need. */
export interface MovedSession {
  id: string;
  orchestrationId: string;
  previousStatus: SessionStatus;
  containerId: string | null;
  runnerId: string | null;
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
const CHANGE_COLUMNS: Record<Exclude<keyof SessionChanges, 'incrementAttempt' | 'output' | 'log'>, string> = {
  statusReason: 'status_reason',
  exitCode: 'exit_code',
  oomKilled: 'oom_killed',
  containerId: 'container_id',
  runnerId: 'runner_id',
  cancelRequestedAt: 'cancel_requested_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  readyAt: 'ready_at',
  dispatchedAt: 'dispatched_at',
};

const IN_FLIGHT = `(s.status IN ('starting', 'running') OR (s.status = 'ready' AND s.dispatched_at IS NOT NULL))`;

const SESSION_COLUMNS = `s.*,
  coalesce((SELECT array_agg(d.depends_on_id::text ORDER BY d.depends_on_id)
    FROM session_dependencies d WHERE d.session_id = s.id), '{}') AS depends_on,
  coalesce((SELECT json_agg(json_build_object('attempt', a.attempt, 'status', a.status, 'reason', a.reason,
      'exitCode', a.exit_code, 'containerId', a.container_id,
      'finishedAt', to_char(a.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) ORDER BY a.attempt)
    FROM session_attempts a WHERE a.session_id = s.id), '[]'::json) AS attempts`;

/** What one transaction may do. Everything in it commits together or not at all. */
export class SessionTransaction {
  constructor(private readonly em: EntityManager) {}

  /** For reads that must see this transaction's writes. */
  get entityManager(): EntityManager {
    return this.em;
  }

  /** The orchestration's sessions in these statuses, locked until commit. */
  async sessionsIn(orchestrationId: string, statuses: SessionStatus[]): Promise<{ id: string; runnerId: string | null }[]> {
    const rows: { id: string; runner_id: string | null }[] = await this.em.query(
      `SELECT id, runner_id FROM sessions WHERE orchestration_id = $1 AND status = ANY($2::text[]) ORDER BY id FOR UPDATE`,
      [orchestrationId, statuses],
    );
    return rows.map((r) => ({ id: r.id, runnerId: r.runner_id }));
  }

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

  /** The orchestration's maxParallel (fixed at creation, so read without a lock). */
  async orchestrationMaxParallel(id: string): Promise<number | null> {
    const rows = await this.em.query(`SELECT max_parallel FROM orchestrations WHERE id = $1`, [id]);
    return rows.length ? rows[0].max_parallel : null;
  }

  /** The orchestration's maxParallel, with its row locked until commit (dispatch decisions serialise on it). */
  async lockOrchestration(id: string): Promise<{ maxParallel: number | null } | null> {
    const rows = await this.em.query(`SELECT max_parallel FROM orchestrations WHERE id = $1 FOR UPDATE`, [id]);
    return rows.length ? { maxParallel: rows[0].max_parallel } : null;
  }

  async insertSession(s: NewSession): Promise<SessionRecord> {
    await this.insertSessions([s]);
    return (await this.getSession(s.id))!;
  }

  /** Inserts sessions and their dependencies in two statements, whatever their number. */
  async insertSessions(sessions: NewSession[]): Promise<void> {
    const column = <K extends keyof NewSession>(key: K) => sessions.map((s) => s[key]);
    await this.em.query(
      `INSERT INTO sessions (id, orchestration_id, name, type, prompt, image, repository, branch, timeout_seconds, retries, status)
       SELECT *, 'created' FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                                       $7::text[], $8::text[], $9::int[], $10::int[])`,
      [
        column('id'),
        column('orchestrationId'),
        column('name'),
        column('type'),
        column('prompt'),
        column('image'),
        column('repository'),
        column('branch'),
        column('timeoutSeconds'),
        column('retries'),
      ],
    );
    const edges = sessions.flatMap((s) => s.dependsOn.map((dependsOn) => [s.id, dependsOn]));
    if (edges.length) {
      await this.em.query(
        `INSERT INTO session_dependencies (session_id, depends_on_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])`,
        [edges.map((e) => e[0]), edges.map((e) => e[1])],
      );
    }
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
    onlyAttempt?: number,
  ): Promise<CompareAndSetResult | null> {
    const params: unknown[] = [id, to, from];
    const sets = ['status = $2', 'updated_at = now()'];
    const set = (column: string, value: unknown) => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    for (const [field, column] of Object.entries(CHANGE_COLUMNS)) {
      const value = changes[field as keyof typeof CHANGE_COLUMNS];
      if (value !== undefined) set(column, value);
    }
    if (changes.output) {
      set('output_file_count', changes.output.files);
      set('output_bytes', changes.output.bytes);
      set('output_skipped', changes.output.skipped);
    }
    if (changes.log) {
      set('log_bytes', changes.log.bytes);
      set('log_dropped_bytes', changes.log.droppedBytes);
    }
    if (changes.incrementAttempt) sets.push('attempt = s.attempt + 1');
    let attemptCondition = '';
    if (onlyAttempt !== undefined) {
      params.push(onlyAttempt);
      attemptCondition = `AND s.attempt = $${params.length}`;
    }
    const rows = await this.em.query(
      `WITH previous AS (SELECT id, status FROM sessions WHERE id = $1 FOR UPDATE)
       UPDATE sessions s SET ${sets.join(', ')}
       FROM previous WHERE s.id = previous.id AND previous.status = ANY($3::text[]) ${attemptCondition}
       RETURNING previous.status AS previous_status`,
      params,
    );
    const updated = Array.isArray(rows[0]) ? rows[0] : rows;
    if (!updated.length) return null;
    const record = (await this.getSession(id))!;
    return { record, previousStatus: updated[0].previous_status };
  }

  /**
   * The bulk form of compareAndSet, for a whole orchestration or a set of sessions: moves every one
   * of them that is in a `from` status, in one statement, and returns those it moved.
   */
  async compareAndSetMany(
    scope: { orchestrationId: string } | { sessionIds: string[] },
    from: readonly SessionStatus[],
    to: SessionStatus,
    changes: { statusReason: string | null; finishedAt?: Date },
  ): Promise<MovedSession[]> {
    const [condition, key] =
      'orchestrationId' in scope ? ['orchestration_id = $1', scope.orchestrationId] : ['id = ANY($1::uuid[])', scope.sessionIds];
    const rows = await this.em.query(
      `WITH previous AS (
         SELECT id, status FROM sessions WHERE ${condition} AND status = ANY($2::text[]) ORDER BY id FOR UPDATE)
       UPDATE sessions s SET status = $3, status_reason = $4, finished_at = coalesce($5, s.finished_at), updated_at = now()
       FROM previous WHERE s.id = previous.id AND previous.status = ANY($2::text[])
       RETURNING s.id, s.orchestration_id, previous.status AS previous_status, s.container_id, s.runner_id`,
      [key, from, to, changes.statusReason, changes.finishedAt ?? null],
    );
    const updated: Record<string, any>[] = Array.isArray(rows[0]) ? rows[0] : rows;
    return updated.map((r) => ({
      id: r.id,
      orchestrationId: r.orchestration_id,
      previousStatus: r.previous_status,
      containerId: r.container_id,
      runnerId: r.runner_id,
    }));
  }

  /** The dependencies of each session, by id. */
  async dependenciesOf(ids: string[]): Promise<Map<string, string[]>> {
    const rows: { session_id: string; depends_on: string[] }[] = await this.em.query(
      `SELECT session_id, array_agg(depends_on_id::text ORDER BY depends_on_id) AS depends_on
         FROM session_dependencies WHERE session_id = ANY($1::uuid[]) GROUP BY session_id`,
      [ids],
    );
    return new Map(rows.map((r) => [r.session_id, r.depends_on]));
  }

  /** Every session `sessionId` depends on, directly or not, that nobody has asked to start. */
  async ancestorsNotStarted(sessionId: string): Promise<string[]> {
    const rows: { id: string }[] = await this.em.query(
      `WITH RECURSIVE ancestors(id) AS (
         SELECT depends_on_id FROM session_dependencies WHERE session_id = $1
         UNION
         SELECT d.depends_on_id FROM session_dependencies d JOIN ancestors a ON d.session_id = a.id)
       SELECT s.id FROM ancestors a JOIN sessions s ON s.id = a.id WHERE s.status = 'created'`,
      [sessionId],
    );
    return rows.map((r) => r.id);
  }

  /** Records that a cancel was asked for (the first time counts). */
  async markCancelRequested(id: string): Promise<void> {
    await this.em.query(`UPDATE sessions SET cancel_requested_at = coalesce(cancel_requested_at, now()) WHERE id = $1`, [id]);
  }

  async recordAttempt(a: {
    sessionId: string;
    attempt: number;
    status: SessionStatus;
    reason: string | null;
    exitCode: number | null;
    containerId: string | null;
    runnerId: string | null;
    finishedAt: Date;
  }): Promise<void> {
    await this.em.query(
      `INSERT INTO session_attempts (session_id, attempt, status, reason, exit_code, container_id, runner_id, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [a.sessionId, a.attempt, a.status, a.reason, a.exitCode, a.containerId, a.runnerId, a.finishedAt],
    );
  }

  /** How many of the orchestration's sessions hold or are about to hold a runner slot. */
  async inFlightCount(orchestrationId: string): Promise<number> {
    const rows = await this.em.query(`SELECT count(*)::int AS n FROM sessions s WHERE s.orchestration_id = $1 AND ${IN_FLIGHT}`, [
      orchestrationId,
    ]);
    return rows[0].n;
  }

  /** Ready sessions not yet handed to the runners, in order of readiness. */
  async undispatchedReady(orchestrationId: string, limit: number): Promise<{ id: string; attempt: number; readyAt: Date }[]> {
    const rows: { id: string; attempt: number; ready_at: Date }[] = await this.em.query(
      `SELECT id, attempt, ready_at FROM sessions
        WHERE orchestration_id = $1 AND status = 'ready' AND dispatched_at IS NULL
        ORDER BY ready_at, seq LIMIT $2 FOR UPDATE`,
      [orchestrationId, limit],
    );
    return rows.map((r) => ({ id: r.id, attempt: r.attempt, readyAt: new Date(r.ready_at) }));
  }

  async markDispatched(ids: string[]): Promise<void> {
    await this.em.query(`UPDATE sessions SET dispatched_at = now() WHERE id = ANY($1::uuid[])`, [ids]);
  }

  /** What a dependent receives of each of its dependencies: its name (or id); the runner reads its manifest. */
  async inputsOf(sessionId: string): Promise<{ name: string; sessionId: string }[]> {
    const rows: { id: string; name: string | null }[] = await this.em.query(
      `SELECT s.id, s.name FROM session_dependencies d JOIN sessions s ON s.id = d.depends_on_id
        WHERE d.session_id = $1 ORDER BY coalesce(s.name, s.id::text)`,
      [sessionId],
    );
    return rows.map((r) => ({ name: r.name ?? r.id, sessionId: r.id }));
  }

  /**
   * Writes events to the outbox, in order, in one statement. They travel as one JSON array: the
   * driver would otherwise quote every envelope into an array literal, which costs twice as much
   * for an orchestration's 10,000 events.
   */
  async appendEvents(envelopes: EventEnvelope[]): Promise<void> {
    if (!envelopes.length) return;
    await this.em.query(
      `INSERT INTO outbox (event_id, subject, envelope)
       SELECT (e->>'id')::uuid, e->>'subject', e FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY n`,
      [JSON.stringify(envelopes)],
    );
  }
}

/** The statuses in which a runner holds a session. */
const HELD_STATUSES: SessionStatus[] = ['starting', 'running'];

export interface HeldRow {
  sessionId: string;
  orchestrationId: string;
  image: string;
  timeoutSeconds: number;
  attempt: number;
  status: SessionStatus;
  startedAt: Date | null;
  changedAt: Date;
  cancelRequested: boolean;
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

  /** The oldest sessions in `waiting`, each with the status of every one of its dependencies. */
  async waiting(limit: number): Promise<{ sessionId: string; dependencies: { sessionId: string; status: SessionStatus }[] }[]> {
    const rows: { id: string; dependencies: { sessionId: string; status: SessionStatus }[] | null }[] = await this.dataSource.query(
      `SELECT s.id,
              (SELECT json_agg(json_build_object('sessionId', dep.id, 'status', dep.status))
                 FROM session_dependencies d JOIN sessions dep ON dep.id = d.depends_on_id
                WHERE d.session_id = s.id) AS dependencies
         FROM sessions s WHERE s.status = 'waiting' ORDER BY s.updated_at LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ sessionId: r.id, dependencies: r.dependencies ?? [] }));
  }

  /** Sessions starting or running longer than their time limit plus `graceSeconds`. */
  async overdue(graceSeconds: number): Promise<{ id: string; attempt: number }[]> {
    return this.dataSource.query(
      `SELECT id, attempt FROM sessions
        WHERE status IN ('starting', 'running')
          AND coalesce(started_at, updated_at) + make_interval(secs => timeout_seconds + $1) < now()`,
      [graceSeconds],
    );
  }

  /** Sessions a runner claimed that have not ended (starting or running), by id, a page at a time. */
  async heldBy(runnerId: string, after: string | undefined, limit: number): Promise<HeldRow[]> {
    const rows: Record<string, any>[] = await this.dataSource.query(
      `SELECT id, orchestration_id, image, timeout_seconds, attempt, status, started_at, updated_at, cancel_requested_at
         FROM sessions
        WHERE runner_id = $1 AND status = ANY($2::text[]) AND ($3::uuid IS NULL OR id > $3::uuid)
        ORDER BY id LIMIT $4`,
      [runnerId, HELD_STATUSES, after ?? null, limit],
    );
    return rows.map((r) => ({
      sessionId: r.id,
      orchestrationId: r.orchestration_id,
      image: r.image,
      timeoutSeconds: r.timeout_seconds,
      attempt: r.attempt,
      status: r.status,
      startedAt: r.started_at ? new Date(r.started_at) : null,
      changedAt: new Date(r.updated_at),
      cancelRequested: r.cancel_requested_at !== null,
    }));
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}

export function encodeCursor(seq: string): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

export function decodeCursor(cursor: string): string {
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
    retries: row.retries,
    attempts: row.attempts ?? [],
    readyAt: row.ready_at ? new Date(row.ready_at) : null,
    dispatchedAt: row.dispatched_at ? new Date(row.dispatched_at) : null,
    legacyOutputFiles: row.legacy_output_files ?? [],
    output:
      row.output_file_count === null
        ? null
        : { files: row.output_file_count, bytes: Number(row.output_bytes ?? 0), skipped: row.output_skipped ?? 0 },
    log: row.log_bytes === null ? null : { bytes: Number(row.log_bytes), droppedBytes: Number(row.log_dropped_bytes ?? 0) },
    cancelRequestedAt: row.cancel_requested_at ? new Date(row.cancel_requested_at) : null,
    createdAt: new Date(row.created_at),
    startedAt: row.started_at ? new Date(row.started_at) : null,
    finishedAt: row.finished_at ? new Date(row.finished_at) : null,
    updatedAt: new Date(row.updated_at),
    dependsOn: row.depends_on ?? [],
  };
}
