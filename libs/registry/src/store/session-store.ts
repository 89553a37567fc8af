import { Injectable } from '@nestjs/common';
import { Any, DataSource, EntityManager, IsNull, SelectQueryBuilder } from 'typeorm';
import {
  DEFAULT_PAGE_SIZE,
  EventEnvelope,
  HELD_STATUSES,
  ListSessionsQuery,
  MAX_CONTINUATIONS_LISTED,
  Budget,
  NO_USAGE,
  Usage,
  NOT_COMPLETED_STATUSES,
  OrchestrationResult,
  OrchestrationSummary,
  SessionStatus,
  statusesThatMayMoveTo,
  TERMINAL_STATUSES,
} from '@hub/contracts';
import {
  OrchestrationEntity,
  OutboxEventEntity,
  SessionAttemptEntity,
  SessionDependencyEntity,
  SessionEntity,
} from '@hub/persistence';
import { traceContextOf, tracingEnabled } from '@hub/tracing';
import { OutboxRelay } from '../outbox/outbox-relay';
import { decodeCursor, encodeCursor } from './cursor';
import { largestAttemptSql, readOrchestrationSummary } from './orchestration-summary';
import type { LargestAttempt } from '../budgets/budget-admission';
import {
  AttemptRecord,
  changedColumns,
  NEW_SESSION_COLUMNS,
  NewSession,
  RUN_RESET,
  SessionChanges,
  SessionRecord,
  toRecord,
} from './session-record';
import { insertRows, returnedRows, sqlNames, sqlValue } from './sql-names';

export { decodeCursor, encodeCursor } from './cursor';
export type { NewSession } from './session-record';

export type NewOrchestration = Pick<OrchestrationEntity, 'id' | 'tenant' | 'name' | 'maxParallel' | 'publishBranch'> &
  Partial<Pick<OrchestrationEntity, 'budget' | 'createdBy'>>;

/**
 * Whose sessions and orchestrations a read sees: one tenant's (a client's request, for which another
 * tenant's are as if they did not exist), or every tenant's (EVERY_TENANT: a service's own request).
 */
export type TenantScope = string | typeof EVERY_TENANT;
export const EVERY_TENANT = null;

/** A session ready to be handed to the runners, with what its `session.ready` says. */
export type ReadySession = Pick<SessionEntity, 'id' | 'orchestrationId' | 'attempt' | 'readyAt' | 'image' | 'runnerLabels'>;

/** What an orchestration spent and may spend, read under its row lock. */
export interface OrchestrationSpending {
  maxParallel: number | null;
  budget: Budget | null;
  usage: Usage;
  /** The budget thresholds announced already (`tokens:80`…). */
  announced: string[];
}

/** A session a bulk move changed, with what its events need. */
export interface MovedSession {
  id: string;
  orchestrationId: string;
  tenant: string;
  previousStatus: SessionStatus;
  /** It had been handed to the runners before the move (a ready one held a place in flight). */
  wasDispatched: boolean;
  containerId: string | null;
  runnerId: string | null;
  /** Its run once moved (a re-run moved it to the next). */
  run: number;
}

export interface DependencyStatus {
  sessionId: string;
  status: SessionStatus;
}

export interface PendingDependent {
  sessionId: string;
  status: SessionStatus;
  run: number;
  dependencies: DependencyStatus[];
}

export interface WaitingSession {
  sessionId: string;
  run: number;
  dependencies: DependencyStatus[];
}

/** Guards of a compare-and-set besides the status: the session is on this attempt, or this run. */
export interface MoveGuard {
  attempt?: number;
  run?: number;
  /** Only if this runner holds the session's claim. */
  runnerId?: string;
}

export interface CompareAndSetResult {
  record: SessionRecord;
  previousStatus: SessionStatus;
}

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

/** The first key of the tenants' advisory locks (SessionTransaction.lockTenant), apart from any other use of them. */
const TENANT_LOCK_SPACE = 0x48554254;

/** A new session's status. */
const CREATED: SessionStatus = 'created';
const WAITING: SessionStatus = 'waiting';
const READY: SessionStatus = 'ready';
/** Nobody asked to start it yet (an ended session may move to waiting too, but only by a re-run). */
const NOT_STARTED: readonly SessionStatus[] = [CREATED];
/** A decision on its dependencies may still move it (to ready, or skipped). */
const UNDECIDED = statusesThatMayMoveTo('skipped');

/**
 * Reads of the session tables, inside a transaction (SessionTransaction) or not. Each answers with
 * one statement, so what it returns is one snapshot; SessionStore.read makes several agree.
 */
export class SessionReads {
  constructor(protected readonly em: EntityManager) {}

  async getSession(id: string, tenant: TenantScope = EVERY_TENANT): Promise<SessionRecord | null> {
    const [record] = await this.records(inTenant(this.sessions().where('s.id = :id', { id }), tenant));
    return record ?? null;
  }

  /** The session's tenant (null when it does not exist): fixed at insert, so read without a lock. */
  async tenantOf(id: string): Promise<string | null> {
    const row = await this.sessions().select(['s.id', 's.tenant']).where('s.id = :id', { id }).getOne();
    return row?.tenant ?? null;
  }

  /** Whether the session exists in `tenant`. */
  sessionExists(id: string, tenant: TenantScope): Promise<boolean> {
    return inTenant(this.sessions().where('s.id = :id', { id }), tenant).getExists();
  }

  /** Whether the orchestration exists in `tenant`. */
  orchestrationExists(id: string, tenant: TenantScope): Promise<boolean> {
    return this.em.existsBy(OrchestrationEntity, tenant === EVERY_TENANT ? { id } : { id, tenant });
  }

  /** The tenant's sessions, newest first, keyset-paginated by `seq`. */
  async listSessions(query: ListSessionsQuery, tenant: TenantScope): Promise<{ items: SessionRecord[]; nextCursor: string | null }> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const select = inTenant(this.sessions(), tenant).orderBy('s.seq', 'DESC').limit(limit + 1);
    if (query.orchestrationId) select.andWhere('s.orchestrationId = :orchestrationId', { orchestrationId: query.orchestrationId });
    if (query.status) select.andWhere('s.status IN (:...statuses)', { statuses: query.status });
    if (query.type) select.andWhere('s.type = :type', { type: query.type });
    if (query.q) {
      // Read newest first along (tenant, seq) like every list, the text checked on each row: a page costs the rows read to fill it.
      select.andWhere("(s.name ILIKE :needle ESCAPE '\\' OR s.statusReason ILIKE :needle ESCAPE '\\' OR CAST(s.id AS text) ILIKE :needle ESCAPE '\\')", {
        needle: `%${literalLike(query.q)}%`,
      });
    }
    if (query.cursor) select.andWhere('s.seq < :before', { before: decodeCursor(query.cursor) });
    const records = await this.records(select);
    const items = records.slice(0, limit);
    return { items, nextCursor: records.length > limit ? encodeCursor(items[items.length - 1].seq) : null };
  }

  /**
   * Up to `page.limit` of an orchestration's sessions in the order declared (oldest first), after
   * `page.cursor` (encodeCursor of the last one read).
   */
  orchestrationSessions(orchestrationId: string, page: { cursor?: string; limit: number }): Promise<SessionRecord[]> {
    const select = this.sessions()
      .where('s.orchestrationId = :orchestrationId', { orchestrationId })
      .orderBy('s.seq')
      .limit(page.limit);
    if (page.cursor) select.andWhere('s.seq > :after', { after: decodeCursor(page.cursor) });
    return this.records(select);
  }

  /** The status of each given session that exists (in `tenant`). */
  async statuses(ids: string[], tenant: TenantScope = EVERY_TENANT): Promise<DependencyStatus[]> {
    const rows = await inTenant(this.sessions().select(['s.id', 's.status']).where('s.id = ANY(:ids)', { ids }), tenant).getMany();
    return rows.map((r) => ({ sessionId: r.id, status: r.status }));
  }

  /** The orchestration of each given session id that exists (in `tenant`). */
  async orchestrationsOf(ids: string[], tenant: TenantScope): Promise<Map<string, string>> {
    const rows = await inTenant(this.sessions().select(['s.id', 's.orchestrationId']).where('s.id = ANY(:ids)', { ids }), tenant).getMany();
    return new Map(rows.map((r) => [r.id, r.orchestrationId]));
  }

  /** The dependencies of each session, by id. */
  async dependenciesOf(ids: string[]): Promise<Map<string, string[]>> {
    const edges = await this.em
      .createQueryBuilder(SessionDependencyEntity, 'd')
      .where('d.sessionId = ANY(:ids)', { ids })
      .orderBy('d.dependsOnId')
      .getMany();
    const dependencies = new Map<string, string[]>();
    for (const edge of edges) dependencies.set(edge.sessionId, [...(dependencies.get(edge.sessionId) ?? []), edge.dependsOnId]);
    return dependencies;
  }

  /**
   * The sessions that depend on `sessionId` and have not started, each with the status of every
   * one of its dependencies. Cost follows the number of dependents, not the orchestration's size.
   */
  async pendingDependents(sessionId: string): Promise<PendingDependent[]> {
    const rows: { sessionId: string; status: SessionStatus; run: number; dependencies: DependencyStatus[] | null }[] = await this.sessions()
      .select('s.id', 'sessionId')
      .addSelect('s.status', 'status')
      .addSelect('s.run', 'run')
      .addSelect(dependencyStatusesSql(this.em), 'dependencies')
      .innerJoin(SessionDependencyEntity, 'd', 'd.sessionId = s.id')
      .where('d.dependsOnId = :sessionId', { sessionId })
      .andWhere('s.status = ANY(:undecided)', { undecided: UNDECIDED })
      .getRawMany();
    return rows.map((r) => ({ sessionId: r.sessionId, status: r.status, run: r.run, dependencies: r.dependencies ?? [] }));
  }

  /** The oldest sessions in `waiting`, each with its run and the status of every one of its dependencies. */
  async waiting(limit: number): Promise<WaitingSession[]> {
    const rows: { sessionId: string; run: number; dependencies: DependencyStatus[] | null }[] = await this.sessions()
      .select('s.id', 'sessionId')
      .addSelect('s.run', 'run')
      .addSelect(dependencyStatusesSql(this.em), 'dependencies')
      .where('s.status = :waiting', { waiting: WAITING })
      .orderBy('s.updatedAt')
      .limit(limit)
      .getRawMany();
    return rows.map((r) => ({ sessionId: r.sessionId, run: r.run, dependencies: r.dependencies ?? [] }));
  }

  /** Sessions starting or running longer than their time limit plus `graceSeconds`. */
  async overdue(graceSeconds: number): Promise<{ id: string; attempt: number }[]> {
    const rows = await this.sessions()
      .select(['s.id', 's.attempt'])
      .where('s.status = ANY(:held)', { held: HELD_STATUSES })
      .andWhere('coalesce(s.startedAt, s.updatedAt) + make_interval(secs => s.timeoutSeconds + :grace) < now()', {
        grace: graceSeconds,
      })
      .getMany();
    return rows.map((r) => ({ id: r.id, attempt: r.attempt }));
  }

  /**
   * Up to `limit` orchestrations, oldest first (or only `only`, when given), every session of which
   * ended before `endedBefore` (when it finished; else when its row last changed): what retention
   * deletes. One created since cannot be one, which keeps the scan to old orchestrations.
   */
  async orchestrationsEndedBefore(endedBefore: Date, limit: number, only?: string): Promise<string[]> {
    const o = sqlNames(this.em, OrchestrationEntity);
    const s = sqlNames(this.em, SessionEntity);
    const params: unknown[] = [endedBefore, TERMINAL_STATUSES, limit];
    if (only) params.push(only);
    const rows: { id: string }[] = await this.em.query(
      `SELECT o.${o.id} AS id FROM ${o.$table} o
        WHERE o.${o.createdAt} < $1 ${only ? `AND o.${o.id} = $4` : ''}
          AND NOT EXISTS (
            SELECT 1 FROM ${s.$table} s WHERE s.${s.orchestrationId} = o.${o.id}
               AND (s.${s.status} <> ALL($2) OR coalesce(s.${s.finishedAt}, s.${s.updatedAt}) >= $1))
        ORDER BY o.${o.seq} LIMIT $3`,
      params,
    );
    return rows.map((r) => r.id);
  }

  /**
   * The sets of runner labels that ready sessions handed to the runners require, each with how many
   * require it and since when the longest has been ready; the most waited-for sets first, `limit` at most.
   */
  async readyLabelSets(limit: number): Promise<{ labels: string[]; sessions: number; readySince: Date | null }[]> {
    const s = sqlNames(this.em, SessionEntity);
    return this.em.query(
      `SELECT ${s.runnerLabels} AS labels, count(*)::int AS sessions, min(${s.readyAt}) AS "readySince"
         FROM ${s.$table}
        WHERE ${s.status} = $1 AND ${s.runnerLabels} <> '[]'::jsonb AND ${s.dispatchedAt} IS NOT NULL
        GROUP BY ${s.runnerLabels}
        ORDER BY count(*) DESC, min(${s.readyAt})
        LIMIT $2`,
      [READY, limit],
    );
  }

  /** Sessions a runner claimed that have not ended (starting or running), by id, a page at a time. */
  async heldBy(runnerId: string, after: string | undefined, limit: number): Promise<HeldRow[]> {
    const select = this.sessions()
      .select(['s.id', 's.orchestrationId', 's.image', 's.timeoutSeconds', 's.attempt', 's.status'])
      .addSelect(['s.startedAt', 's.updatedAt', 's.cancelRequestedAt'])
      .where('s.runnerId = :runnerId', { runnerId })
      .andWhere('s.status = ANY(:held)', { held: HELD_STATUSES })
      .orderBy('s.id')
      .limit(limit);
    if (after) select.andWhere('s.id > :after', { after });
    const rows = await select.getMany();
    return rows.map((r) => ({
      sessionId: r.id,
      orchestrationId: r.orchestrationId,
      image: r.image,
      timeoutSeconds: r.timeoutSeconds,
      attempt: r.attempt,
      status: r.status,
      startedAt: r.startedAt,
      changedAt: r.updatedAt,
      cancelRequested: r.cancelRequestedAt !== null,
    }));
  }

  /** The orchestration's counts per status and its one aggregate status (null when it does not exist in `tenant`). */
  orchestrationSummary(id: string, tenant: TenantScope = EVERY_TENANT): Promise<OrchestrationSummary | null> {
    return readOrchestrationSummary(this.em, id, tenant);
  }

  protected sessions(): SelectQueryBuilder<SessionEntity> {
    return this.em.createQueryBuilder(SessionEntity, 's');
  }

  /** The rows `select` finds as records: each with its dependencies and finished attempts, in the same statement. */
  private async records(select: SelectQueryBuilder<SessionEntity>): Promise<SessionRecord[]> {
    const relations = relationsSql(this.em);
    const { entities, raw } = await select
      .addSelect(relations.dependsOn, 'dependsOn')
      .addSelect(relations.attempts, 'attempts')
      .addSelect(relations.continuedBy, 'continuedBy')
      .getRawAndEntities<{ dependsOn: string[]; attempts: AttemptRecord[]; continuedBy: string[] }>();
    // Without joins, TypeORM makes one entity of each raw row, in the rows' order.
    if (entities.length !== raw.length) throw new Error(`read ${raw.length} session rows as ${entities.length} entities`);
    return entities.map((row, i) => toRecord(row, raw[i].dependsOn, raw[i].attempts, raw[i].continuedBy));
  }
}

/** A session as a refusal names it: `impl-a (<id>) running`. */
export interface SessionLabel {
  id: string;
  name: string | null;
  status: SessionStatus;
}

const labelOf = (row: Pick<SessionEntity, 'id' | 'name' | 'status'>): SessionLabel => ({ id: row.id, name: row.name, status: row.status });

/** `text` as a LIKE pattern that matches itself only (`\\` escapes `%`, `_` and itself). */
const literalLike = (text: string) => text.replace(/[\\%_]/g, '\\$&');

/** `select` (of sessions `s`) kept to the tenant's sessions. */
function inTenant(select: SelectQueryBuilder<SessionEntity>, tenant: TenantScope): SelectQueryBuilder<SessionEntity> {
  return tenant === EVERY_TENANT ? select : select.andWhere('s.tenant = :tenant', { tenant });
}

/** The AttemptRecord fields read as the columns hold them (`finishedAt` is formatted as ISO 8601). */
const ATTEMPT_FIELDS = ['attempt', 'status', 'reason', 'exitCode', 'containerId'] as const satisfies readonly (keyof AttemptRecord &
  keyof SessionAttemptEntity)[];

/** Subselects of a session `s`: its dependencies' ids, its finished attempts as AttemptRecords, the sessions that continue it. */
function relationsSql(em: EntityManager): { dependsOn: string; attempts: string; continuedBy: string } {
  const d = sqlNames(em, SessionDependencyEntity);
  const a = sqlNames(em, SessionAttemptEntity);
  const c = sqlNames(em, SessionEntity);
  const fields = ATTEMPT_FIELDS.map((field) => `'${field}', a.${a[field]}`).join(', ');
  return {
    dependsOn: `coalesce((SELECT array_agg(d.${d.dependsOnId}::text ORDER BY d.${d.dependsOnId})
      FROM ${d.$table} d WHERE d.${d.sessionId} = s.id), '{}')`,
    attempts: `coalesce((SELECT json_agg(json_build_object(${fields},
        'finishedAt', to_char(a.${a.finishedAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) ORDER BY a.${a.attempt})
      FROM ${a.$table} a WHERE a.${a.sessionId} = s.id), '[]'::json)`,
    continuedBy: `coalesce((SELECT array_agg(c.${c.id}::text ORDER BY c.${c.seq}) FROM (SELECT ${c.id}, ${c.seq} FROM ${c.$table}
      WHERE ${c.continues} = s.id ORDER BY ${c.seq} LIMIT ${MAX_CONTINUATIONS_LISTED}) c), '{}')`,
  };
}

/**
 * The SET list of a move of session rows `s` to `to` with `changes`, their values appended to
 * `params` (as $n). A new run (a re-run) also clears the row (RUN_RESET), counts one more run and
 * sets the attempts its earlier runs took.
 */
function assignments(em: EntityManager, to: SessionStatus, changes: SessionChanges, params: unknown[]): string[] {
  const s = sqlNames(em, SessionEntity);
  const sets = [`${s.updatedAt} = now()`];
  const given = Object.entries(changedColumns(changes)).filter(([, value]) => value !== undefined);
  const columns: Partial<SessionEntity> = { status: to, ...(changes.startNewRun ? RUN_RESET : {}), ...Object.fromEntries(given) };
  for (const [property, value] of Object.entries(columns) as [keyof SessionEntity, unknown][]) {
    params.push(sqlValue(em, SessionEntity, property, value));
    sets.push(`${s[property]} = $${params.length}`);
  }
  if (changes.incrementAttempt) sets.push(`${s.attempt} = s.${s.attempt} + 1`);
  if (changes.startNewRun) sets.push(`${s.run} = s.${s.run} + 1`, `${s.attemptsBeforeRun} = s.${s.attempt}`);
  return sets;
}

/** Subselect of a session `s`: the status of each of its dependencies, as DependencyStatus objects. */
function dependencyStatusesSql(em: EntityManager): string {
  const d = sqlNames(em, SessionDependencyEntity);
  const s = sqlNames(em, SessionEntity);
  return `(SELECT json_agg(json_build_object('sessionId', dep.${s.id}, 'status', dep.${s.status}))
      FROM ${d.$table} dd JOIN ${s.$table} dep ON dep.${s.id} = dd.${d.dependsOnId} WHERE dd.${d.sessionId} = s.id)`;
}

/**
 * The trace context each outbox row of an event `e` is written with (its value appended to `params`),
 * which the relay's publish continues; null when tracing is off: the column is left out, nothing is
 * stored. The active context when there is one: the request or event being handled, so the trace
 * follows cause to effect. With none (a periodic task such as the overdue check; an event that came
 * without a trace, like a `container.exited` reported by a runner after its restart), the context the
 * session the event is about was created in: a session's later events stay in its trace, however
 * long after they come. An event about no session then has none.
 */
function outboxTraceContextSql(em: EntityManager, params: unknown[]): string | null {
  if (!tracingEnabled()) return null;
  const active = traceContextOf();
  if (active) {
    params.push(JSON.stringify(active));
    return `$${params.length}::jsonb`;
  }
  const s = sqlNames(em, SessionEntity);
  return `(SELECT c.${s.traceContext} FROM ${s.$table} c WHERE c.${s.id} = (e->'data'->>'sessionId')::uuid)`;
}

/**
 * What one transaction may do. Everything in it commits together or not at all; events it appends
 * to the outbox are relayed once it committed (SessionStore.transaction).
 */
export class SessionTransaction extends SessionReads {
  constructor(
    em: EntityManager,
    private readonly onEventsAppended: () => void,
  ) {
    super(em);
  }

  /** The orchestration's sessions in these statuses, locked until commit. */
  async sessionsIn(orchestrationId: string, statuses: readonly SessionStatus[]): Promise<{ id: string; runnerId: string | null }[]> {
    const rows = await this.sessions()
      .select(['s.id', 's.runnerId'])
      .where('s.orchestrationId = :orchestrationId', { orchestrationId })
      .andWhere('s.status = ANY(:statuses)', { statuses })
      .orderBy('s.id')
      .setLock('pessimistic_write')
      .getMany();
    return rows.map((r) => ({ id: r.id, runnerId: r.runnerId }));
  }

  async insertOrchestration(o: NewOrchestration): Promise<void> {
    await this.em.createQueryBuilder().insert().into(OrchestrationEntity).values(o).updateEntity(false).execute();
  }

  /** What limits how the orchestration's sessions are handed to runners: maxParallel (fixed) and its budget (read without a lock). */
  async orchestrationLimits(id: string): Promise<{ maxParallel: number | null; budget: Budget | null }> {
    const row = await this.em.findOne(OrchestrationEntity, { select: { id: true, maxParallel: true, budget: true }, where: { id } });
    return { maxParallel: row?.maxParallel ?? null, budget: row?.budget ?? null };
  }

  /** The orchestration's spending and budget, with its row locked until commit (usage is added and admissions decided under it). */
  async lockOrchestrationSpending(id: string): Promise<OrchestrationSpending | null> {
    const row = await this.em.findOne(OrchestrationEntity, {
      select: { id: true, maxParallel: true, budget: true, usage: true, budgetThresholdsAnnounced: true },
      where: { id },
      lock: { mode: 'pessimistic_write' },
    });
    return row
      ? { maxParallel: row.maxParallel, budget: row.budget, usage: row.usage ?? NO_USAGE, announced: row.budgetThresholdsAnnounced }
      : null;
  }

  async setOrchestrationSpending(id: string, usage: Usage, announced: string[]): Promise<void> {
    await this.em.update(OrchestrationEntity, { id }, { usage, budgetThresholdsAnnounced: announced });
  }

  /** Replaces the orchestration's budget; false when there is no such orchestration. */
  async setOrchestrationBudget(id: string, budget: Budget | null): Promise<boolean> {
    const update = await this.em.update(OrchestrationEntity, { id }, { budget });
    return (update.affected ?? 0) > 0;
  }

  /** The most one attempt of the orchestration spent, per budget cap. */
  async largestAttempt(orchestrationId: string): Promise<LargestAttempt> {
    const [row] = await this.em.query(`SELECT (${largestAttemptSql(this.em, '$1')}) AS largest`, [orchestrationId]);
    return { tokens: row?.largest?.tokens ?? null, usd: row?.largest?.usd ?? null };
  }

  /** Whether a session of the orchestration has this name. */
  nameTaken(orchestrationId: string, name: string): Promise<boolean> {
    return this.em.existsBy(SessionEntity, { orchestrationId, name });
  }

  /** The orchestration's name (fixed at creation): part of the branch its sessions' changes are kept on. */
  async orchestrationName(id: string): Promise<string> {
    const row = await this.em.findOne(OrchestrationEntity, { select: { id: true, name: true }, where: { id } });
    return row?.name ?? id;
  }

  /** The orchestration's maxParallel, with its row locked until commit (dispatch decisions serialise on it). */
  async lockOrchestration(id: string): Promise<{ maxParallel: number | null } | null> {
    const row = await this.em.findOne(OrchestrationEntity, {
      select: { id: true, maxParallel: true },
      where: { id },
      lock: { mode: 'pessimistic_write' },
    });
    return row ? { maxParallel: row.maxParallel } : null;
  }

  async insertSession(s: NewSession): Promise<SessionRecord> {
    await this.insertSessions([s]);
    return (await this.getSession(s.id))!;
  }

  /**
   * Inserts sessions and their dependencies in two statements, whatever their number. Each keeps the
   * trace context it is created in (the request's), for its later events to fall back on (appendEvents).
   */
  async insertSessions(sessions: NewSession[]): Promise<void> {
    const traceContext = traceContextOf();
    await insertRows(this.em, SessionEntity, NEW_SESSION_COLUMNS, sessions, { status: CREATED, ...(traceContext && { traceContext }) });
    const edges = sessions.flatMap((s) => s.dependsOn.map((dependsOnId, position) => ({ sessionId: s.id, dependsOnId, position })));
    await insertRows(this.em, SessionDependencyEntity, ['sessionId', 'dependsOnId', 'position'], edges);
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
    only: MoveGuard = {},
  ): Promise<CompareAndSetResult | null> {
    const s = sqlNames(this.em, SessionEntity);
    const params: unknown[] = [id, from];
    const sets = assignments(this.em, to, changes, params);
    const guards = (['attempt', 'run', 'runnerId'] as const).flatMap((column) => {
      if (only[column] === undefined) return [];
      params.push(only[column]);
      return [`AND s.${s[column]} = $${params.length}`];
    });
    const updated = returnedRows<{ previousStatus: SessionStatus }>(
      await this.em.query(
        `WITH previous AS (SELECT ${s.id}, ${s.status} FROM ${s.$table} WHERE ${s.id} = $1 FOR UPDATE)
         UPDATE ${s.$table} s SET ${sets.join(', ')}
         FROM previous WHERE s.${s.id} = previous.${s.id} AND previous.${s.status} = ANY($2) ${guards.join(' ')}
         RETURNING previous.${s.status} AS "previousStatus"`,
        params,
      ),
    );
    if (!updated.length) return null;
    const record = (await this.getSession(id))!;
    return { record, previousStatus: updated[0].previousStatus };
  }

  /**
   * The bulk form of compareAndSet, for a whole orchestration or a set of sessions: moves every one
   * of them that is in a `from` status, in one statement, and returns those it moved.
   */
  async compareAndSetMany(
    scope: { orchestrationId: string } | { sessionIds: string[] },
    from: readonly SessionStatus[],
    to: SessionStatus,
    changes: SessionChanges,
  ): Promise<MovedSession[]> {
    const s = sqlNames(this.em, SessionEntity);
    const [condition, key] =
      'orchestrationId' in scope ? [`${s.orchestrationId} = $1`, scope.orchestrationId] : [`${s.id} = ANY($1)`, scope.sessionIds];
    const params: unknown[] = [key, from];
    const sets = assignments(this.em, to, changes, params);
    return returnedRows<MovedSession>(
      await this.em.query(
        `WITH previous AS (
           SELECT ${s.id}, ${s.status}, ${s.dispatchedAt} FROM ${s.$table} WHERE ${condition} AND ${s.status} = ANY($2) ORDER BY ${s.id} FOR UPDATE)
         UPDATE ${s.$table} s SET ${sets.join(', ')}
         FROM previous WHERE s.${s.id} = previous.${s.id} AND previous.${s.status} = ANY($2)
         RETURNING s.${s.id} AS "id", s.${s.orchestrationId} AS "orchestrationId", s.${s.tenant} AS "tenant",
                   previous.${s.status} AS "previousStatus", previous.${s.dispatchedAt} IS NOT NULL AS "wasDispatched",
                   s.${s.containerId} AS "containerId", s.${s.runnerId} AS "runnerId", s.${s.run} AS "run"`,
        params,
      ),
    );
  }

  /** Every session these depend on, directly or not, that nobody has asked to start. */
  async ancestorsNotStarted(sessionIds: string[]): Promise<string[]> {
    const s = sqlNames(this.em, SessionEntity);
    const d = sqlNames(this.em, SessionDependencyEntity);
    const rows: { id: string }[] = await this.em.query(
      `WITH RECURSIVE ancestors(id) AS (
         SELECT ${d.dependsOnId} FROM ${d.$table} WHERE ${d.sessionId} = ANY($1)
         UNION
         SELECT d.${d.dependsOnId} FROM ${d.$table} d JOIN ancestors a ON d.${d.sessionId} = a.id)
       SELECT s.${s.id} AS id FROM ancestors a JOIN ${s.$table} s ON s.${s.id} = a.id WHERE s.${s.status} = ANY($2)`,
      [sessionIds, NOT_STARTED],
    );
    return rows.map((r) => r.id);
  }

  /**
   * The sessions that depend on `sessionId`, directly or through each other, and ended without
   * completing: what a re-run of it takes along. A completed dependent keeps its result, and what
   * depends on it is not reached through it.
   */
  async dependentsNotCompleted(sessionId: string): Promise<string[]> {
    const s = sqlNames(this.em, SessionEntity);
    const d = sqlNames(this.em, SessionDependencyEntity);
    const rows: { id: string }[] = await this.em.query(
      `WITH RECURSIVE dependents(id) AS (
         SELECT d.${d.sessionId} FROM ${d.$table} d JOIN ${s.$table} s ON s.${s.id} = d.${d.sessionId}
          WHERE d.${d.dependsOnId} = $1 AND s.${s.status} = ANY($2)
         UNION
         SELECT d.${d.sessionId} FROM ${d.$table} d JOIN dependents p ON d.${d.dependsOnId} = p.id
           JOIN ${s.$table} s ON s.${s.id} = d.${d.sessionId} WHERE s.${s.status} = ANY($2))
       SELECT id FROM dependents ORDER BY id`,
      [sessionId, NOT_COMPLETED_STATUSES],
    );
    return rows.map((r) => r.id);
  }

  /** Up to `limit` of the orchestration's sessions that have not ended, in the order declared; and how many there are. */
  async sessionsNotEnded(orchestrationId: string, limit: number): Promise<{ sessions: SessionLabel[]; total: number }> {
    const select = this.sessions()
      .select(['s.id', 's.name', 's.status'])
      .where('s.orchestrationId = :orchestrationId', { orchestrationId })
      .andWhere('s.status <> ALL(:terminal)', { terminal: TERMINAL_STATUSES });
    const total = await select.getCount();
    const rows = total ? await select.orderBy('s.seq').limit(limit).getMany() : [];
    return { sessions: rows.map(labelOf), total };
  }

  /** Up to `limit` of the sessions that depend on `sessionId` (directly), in the order made; and how many there are. */
  async dependentsOf(sessionId: string, limit: number): Promise<{ sessions: SessionLabel[]; total: number }> {
    const select = this.sessions()
      .select(['s.id', 's.name', 's.status'])
      .innerJoin(SessionDependencyEntity, 'd', 'd.sessionId = s.id')
      .where('d.dependsOnId = :sessionId', { sessionId });
    const total = await select.getCount();
    const rows = total ? await select.orderBy('s.seq').limit(limit).getMany() : [];
    return { sessions: rows.map(labelOf), total };
  }

  /** How many sessions the orchestration has. */
  sessionCount(orchestrationId: string): Promise<number> {
    return this.sessions().where('s.orchestrationId = :orchestrationId', { orchestrationId }).getCount();
  }

  /**
   * Deletes the orchestration and its sessions (their dependencies and attempts go with them, by
   * the foreign keys' cascade); answers the ids of the sessions deleted. Lock the orchestration first.
   */
  async deleteOrchestration(id: string): Promise<string[]> {
    const s = sqlNames(this.em, SessionEntity);
    const o = sqlNames(this.em, OrchestrationEntity);
    const deleted = returnedRows<{ id: string }>(
      await this.em.query(`DELETE FROM ${s.$table} WHERE ${s.orchestrationId} = $1 RETURNING ${s.id} AS id`, [id]),
    );
    await this.em.query(`DELETE FROM ${o.$table} WHERE ${o.id} = $1`, [id]);
    return deleted.map((row) => row.id);
  }

  /** Deletes one session (its dependencies and attempts go with it); false when there was none. */
  async deleteSession(id: string): Promise<boolean> {
    const s = sqlNames(this.em, SessionEntity);
    const deleted = returnedRows<{ id: string }>(await this.em.query(`DELETE FROM ${s.$table} WHERE ${s.id} = $1 RETURNING ${s.id} AS id`, [id]));
    return deleted.length > 0;
  }

  /**
   * Records that a cancel was asked for (the first time counts), and, when Hub asks it itself, why
   * (`because …`): the sessions' status reason says they are stopping, their end names it.
   */
  async markCancelRequested(ids: string[], why: string | null = null): Promise<void> {
    await this.em
      .createQueryBuilder()
      .update(SessionEntity)
      .set({
        cancelRequestedAt: () => 'coalesce(cancel_requested_at, now())',
        ...(why ? { cancelReason: why, statusReason: `stopping: ${why}` } : {}),
      })
      .where({ id: Any(ids), status: Any([...HELD_STATUSES]), cancelRequestedAt: IsNull() })
      .execute();
  }

  /** Locks the session's row until commit (a compare-and-set needs none; a read-then-decide does). */
  async lockSession(id: string): Promise<void> {
    await this.sessions().select('s.id').where('s.id = :id', { id }).setLock('pessimistic_write').getOne();
  }

  async recordAttempt(attempt: SessionAttemptEntity): Promise<void> {
    await this.em.createQueryBuilder().insert().into(SessionAttemptEntity).values(attempt).orIgnore().updateEntity(false).execute();
  }

  /** How many of the orchestration's sessions have not ended (never started ones included). */
  unfinishedCount(orchestrationId: string): Promise<number> {
    return this.sessions()
      .where('s.orchestrationId = :orchestrationId', { orchestrationId })
      .andWhere('s.status <> ALL(:terminal)', { terminal: TERMINAL_STATUSES })
      .getCount();
  }

  /** Forgets what the orchestration produced: it runs again (a retry), and will produce anew. */
  async clearOrchestrationResult(id: string): Promise<void> {
    await this.em.update(OrchestrationEntity, { id }, { result: null });
  }

  /** Records what the orchestration produced; false when there is no such orchestration. */
  async setOrchestrationResult(id: string, result: OrchestrationResult): Promise<boolean> {
    const update = await this.em.update(OrchestrationEntity, { id }, { result });
    return (update.affected ?? 0) > 0;
  }

  /** How many of the orchestration's sessions hold or are about to hold a runner slot. */
  inFlightCount(orchestrationId: string): Promise<number> {
    return this.inFlight().andWhere('s.orchestrationId = :orchestrationId', { orchestrationId }).getCount();
  }

  /**
   * Ready sessions not yet handed to the runners, in order of readiness, locked until commit.
   * `skipLocked`: leave out those another transaction holds (it is moving them) rather than wait for it.
   */
  async undispatchedReady(orchestrationId: string, limit: number, options: { skipLocked?: boolean } = {}): Promise<ReadySession[]> {
    const select = this.readySessions().andWhere('s.orchestrationId = :orchestrationId', { orchestrationId }).limit(limit);
    return options.skipLocked ? select.setOnLocked('skip_locked').getMany() : select.getMany();
  }

  /**
   * The tenant's ready sessions not yet handed to the runners, in any of its orchestrations, longest
   * waiting first, but those in `except.orchestrations` and `except.sessions`; locked until commit,
   * skipping those another transaction holds (it is moving them: it decides on them itself).
   */
  tenantUndispatchedReady(tenant: string, except: { orchestrations: string[]; sessions: string[] }, limit: number): Promise<ReadySession[]> {
    return this.readySessions()
      .andWhere('s.tenant = :tenant', { tenant })
      .andWhere('s.orchestrationId <> ALL(:orchestrations)', { orchestrations: except.orchestrations })
      .andWhere('s.id <> ALL(:sessions)', { sessions: except.sessions })
      .limit(limit)
      .setOnLocked('skip_locked')
      .getMany();
  }

  /** How many of the tenant's sessions hold or are about to hold a runner slot, over all its orchestrations. */
  tenantInFlightCount(tenant: string): Promise<number> {
    return this.inFlight().andWhere('s.tenant = :tenant', { tenant }).getCount();
  }

  /**
   * Serialises, until commit, the decisions on the tenant's sessions in flight (ReadyDispatch): a
   * transaction-scoped advisory lock on the tenant's name, taken before any orchestration row.
   */
  async lockTenant(tenant: string): Promise<void> {
    await this.em.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [TENANT_LOCK_SPACE, tenant]);
  }

  /** Ready sessions (`s`) not yet handed out, in order of readiness, locked until commit. */
  private readySessions(): SelectQueryBuilder<SessionEntity> {
    return this.sessions()
      .select(['s.id', 's.orchestrationId', 's.attempt', 's.readyAt', 's.image', 's.runnerLabels'])
      .where('s.status = :ready', { ready: READY })
      .andWhere('s.dispatchedAt IS NULL')
      .orderBy('s.readyAt')
      .addOrderBy('s.seq')
      .setLock('pessimistic_write');
  }

  /** Sessions (`s`) that hold or are about to hold a runner slot: handed out, starting or running. */
  private inFlight(): SelectQueryBuilder<SessionEntity> {
    return this.sessions().where('(s.status = ANY(:held) OR (s.status = :ready AND s.dispatchedAt IS NOT NULL))', {
      held: HELD_STATUSES,
      ready: READY,
    });
  }

  async markDispatched(ids: string[]): Promise<void> {
    await this.em
      .createQueryBuilder()
      .update(SessionEntity)
      .set({ dispatchedAt: () => 'now()' })
      .where({ id: Any(ids) })
      .execute();
  }

  /**
   * Adds to each session's status reason what it waits for now that it is handed to the runners
   * (`…; waiting for a runner with labels gpu`), in one statement.
   */
  async noteWaiting(notes: { id: string; note: string }[]): Promise<void> {
    if (!notes.length) return;
    const s = sqlNames(this.em, SessionEntity);
    await this.em.query(
      `UPDATE ${s.$table} s SET ${s.statusReason} = concat_ws('; ', s.${s.statusReason}, v.note)
         FROM unnest($1::uuid[], $2::text[]) AS v(id, note) WHERE s.${s.id} = v.id`,
      [notes.map((n) => n.id), notes.map((n) => n.note)],
    );
  }

  /** What a dependent receives of each of its dependencies: its name (or id); the runner reads its manifest. */
  async inputsOf(sessionId: string): Promise<{ name: string; sessionId: string }[]> {
    const rows: { id: string; name: string | null }[] = await this.em
      .createQueryBuilder(SessionDependencyEntity, 'd')
      .innerJoin(SessionEntity, 's', 's.id = d.dependsOnId')
      .select('s.id', 'id')
      .addSelect('s.name', 'name')
      .where('d.sessionId = :sessionId', { sessionId })
      .orderBy('d.position')
      .addOrderBy('coalesce(s.name, s.id::text)')
      .getRawMany();
    return rows.map((r) => ({ name: r.name ?? r.id, sessionId: r.id }));
  }

  /**
   * Writes events to the outbox, in order, in one statement. They travel as one JSON array: the
   * driver would otherwise quote every envelope into an array literal, which costs twice as much
   * for an orchestration's 10,000 events. With tracing on, each row keeps the trace context the
   * relay continues (outboxTraceContextSql).
   */
  async appendEvents(envelopes: EventEnvelope[]): Promise<void> {
    if (!envelopes.length) return;
    const o = sqlNames(this.em, OutboxEventEntity);
    const params: unknown[] = [JSON.stringify(envelopes)];
    const traceContext = outboxTraceContextSql(this.em, params);
    await this.em.query(
      `INSERT INTO ${o.$table} (${o.eventId}, ${o.subject}, ${o.envelope}${traceContext ? `, ${o.traceContext}` : ''})
       SELECT (e->>'id')::uuid, e->>'subject', e${traceContext ? `, ${traceContext}` : ''}
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY n`,
      params,
    );
    this.onEventsAppended();
  }
}

/** The session tables, in PostgreSQL. Only the registry holds one. */
@Injectable()
export class SessionStore {
  private readonly reads: SessionReads;

  constructor(
    private readonly dataSource: DataSource,
    private readonly relay: OutboxRelay,
  ) {
    this.reads = new SessionReads(dataSource.manager);
  }

  /**
   * Runs `work` in one transaction. If it appended events, the outbox relay publishes them as soon
   * as it committed (its periodic sweep is only for what a crash or an outage left behind).
   */
  async transaction<T>(work: (tx: SessionTransaction) => Promise<T>): Promise<T> {
    let appended = false;
    const result = await this.dataSource.transaction((em) =>
      work(
        new SessionTransaction(em, () => {
          appended = true;
        }),
      ),
    );
    if (appended) this.relay.kick();
    return result;
  }

  /** Reads that must agree with each other, from one snapshot of the database. */
  read<T>(work: (reads: SessionReads) => Promise<T>): Promise<T> {
    return this.dataSource.transaction('REPEATABLE READ', (em) => work(new SessionReads(em)));
  }

  getSession(id: string, tenant: TenantScope = EVERY_TENANT): Promise<SessionRecord | null> {
    return this.reads.getSession(id, tenant);
  }

  listSessions(query: ListSessionsQuery, tenant: TenantScope): Promise<{ items: SessionRecord[]; nextCursor: string | null }> {
    return this.reads.listSessions(query, tenant);
  }

  orchestrationSessions(orchestrationId: string, page: { cursor?: string; limit: number }): Promise<SessionRecord[]> {
    return this.reads.orchestrationSessions(orchestrationId, page);
  }

  statuses(ids: string[], tenant: TenantScope): Promise<DependencyStatus[]> {
    return this.reads.statuses(ids, tenant);
  }

  pendingDependents(sessionId: string): Promise<PendingDependent[]> {
    return this.reads.pendingDependents(sessionId);
  }

  waiting(limit: number): Promise<WaitingSession[]> {
    return this.reads.waiting(limit);
  }

  overdue(graceSeconds: number): Promise<{ id: string; attempt: number }[]> {
    return this.reads.overdue(graceSeconds);
  }

  orchestrationsEndedBefore(endedBefore: Date, limit: number): Promise<string[]> {
    return this.reads.orchestrationsEndedBefore(endedBefore, limit);
  }

  heldBy(runnerId: string, after: string | undefined, limit: number): Promise<HeldRow[]> {
    return this.reads.heldBy(runnerId, after, limit);
  }

  readyLabelSets(limit: number): Promise<{ labels: string[]; sessions: number; readySince: Date | null }[]> {
    return this.reads.readyLabelSets(limit);
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
