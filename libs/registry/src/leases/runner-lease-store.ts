import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HELD_STATUSES, MAX_RUNNERS_LISTED } from '@hub/contracts';
import { RunnerEntity, SessionEntity } from '@hub/persistence';
import { returnedRows, sqlNames } from '../store/sql-names';

/** A runner's row as a new heartbeat writes it. */
export type RunnerSeen = Pick<
  RunnerEntity,
  'id' | 'lastSeenAt' | 'heartbeatRevision' | 'heartbeatEveryMs' | 'startedAt' | 'slots' | 'inUse' | 'labels' | 'version'
>;

/** What the registry keeps of the runners (the `runners` table), and which of them hold sessions. */
@Injectable()
export class RunnerLeaseStore {
  constructor(private readonly dataSource: DataSource) {}

  /** The runners known, those seen last first, at most MAX_RUNNERS_LISTED. */
  all(): Promise<RunnerEntity[]> {
    return this.dataSource.getRepository(RunnerEntity).find({ order: { lastSeenAt: 'DESC', id: 'ASC' }, take: MAX_RUNNERS_LISTED });
  }

  /** Records new heartbeats: the runner is alive (its lapse, if any, forgotten). One statement for all of them. */
  async recordSeen(rows: RunnerSeen[]): Promise<void> {
    if (!rows.length) return;
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(RunnerEntity)
      .values(rows.map((row) => ({ ...row, lostAt: null })))
      .orUpdate(['last_seen_at', 'heartbeat_revision', 'heartbeat_every_ms', 'started_at', 'slots', 'in_use', 'labels', 'version', 'lost_at'], ['id'])
      .updateEntity(false)
      .execute();
  }

  /** Records that the runner's lease lapsed at `at` (a runner known only from its sessions gets a row, last seen `lastSeenAt`). */
  async recordLost(runnerId: string, at: Date, lastSeenAt: Date, heartbeatEveryMs: number): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(RunnerEntity)
      .values({ id: runnerId, lastSeenAt, heartbeatEveryMs, lostAt: at })
      .orUpdate(['lost_at'], ['id'])
      .updateEntity(false)
      .execute();
  }

  /** How many sessions each runner holds (starting or running, claimed by it). */
  async holders(): Promise<Map<string, number>> {
    const rows: { runnerId: string; holds: string }[] = await this.dataSource
      .createQueryBuilder(SessionEntity, 's')
      .select('s.runnerId', 'runnerId')
      .addSelect('count(*)', 'holds')
      .where('s.status = ANY(:held)', { held: HELD_STATUSES })
      .andWhere('s.runnerId IS NOT NULL')
      .groupBy('s.runnerId')
      .getRawMany();
    return new Map(rows.map((row) => [row.runnerId, Number(row.holds)]));
  }

  /** Forgets the runners last seen before `before` that hold no session; answers their ids. */
  async forgetSilentSince(before: Date): Promise<string[]> {
    const r = sqlNames(this.dataSource.manager, RunnerEntity);
    const s = sqlNames(this.dataSource.manager, SessionEntity);
    const deleted = await this.dataSource.query(
      `DELETE FROM ${r.$table} r WHERE r.${r.lastSeenAt} < $1
          AND NOT EXISTS (SELECT 1 FROM ${s.$table} s WHERE s.${s.runnerId} = r.${r.id} AND s.${s.status} = ANY($2))
        RETURNING r.${r.id} AS id`,
      [before, HELD_STATUSES],
    );
    return returnedRows<{ id: string }>(deleted).map((row) => row.id);
  }
}
