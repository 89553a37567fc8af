import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HUB_LOGGER, HubLogger, PeriodicTask } from '@hub/config';
import { OutboxEventEntity } from '@hub/persistence';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';
import { returnedRows, sqlNames } from '../store/sql-names';

const DAY_MS = 24 * 60 * 60_000;
const CHECK_INTERVAL_MS = 10 * 60_000;
/** Outbox rows looked at per batch, oldest first. */
const BATCH = 5_000;
const MAX_BATCHES_PER_PASS = 20;

/**
 * The outbox keeps each event after it was relayed; once the event stream has dropped it
 * (HUB_EVENTS_MAX_AGE_DAYS), its row goes too, so neither grows without limit. Rows not relayed
 * yet stay whatever their age. Every CHECK_INTERVAL_MS, a bounded number of batches, oldest first.
 */
@Injectable()
export class PruneRelayedEvents extends PeriodicTask {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {
    super({ everyMs: CHECK_INTERVAL_MS, atStart: false });
  }

  /** One pass; how many rows it removed. */
  async runOnce(): Promise<number> {
    const days = this.settings.retention?.eventsMaxAgeDays;
    if (!days) return 0;
    const before = new Date(Date.now() - days * DAY_MS);
    let pruned = 0;
    try {
      for (let batch = 0; batch < MAX_BATCHES_PER_PASS; batch++) {
        const removed = await this.pruneBatch(before);
        pruned += removed;
        if (removed < BATCH) break;
      }
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, pruned }, 'could not prune relayed events from the outbox; will retry');
    }
    if (pruned) this.logger.info({ pruned, eventsMaxAgeDays: days }, 'relayed events pruned from the outbox');
    return pruned;
  }

  /** Of the BATCH oldest rows (by the primary key, whatever the table's size), those relayed and written before `before`. */
  private async pruneBatch(before: Date): Promise<number> {
    const o = sqlNames(this.dataSource.manager, OutboxEventEntity);
    const removed = returnedRows<{ seq: string }>(
      await this.dataSource.query(
        `WITH oldest AS (SELECT ${o.seq}, ${o.publishedAt}, ${o.createdAt} FROM ${o.$table} ORDER BY ${o.seq} LIMIT $2)
         DELETE FROM ${o.$table} WHERE ${o.seq} IN (
           SELECT ${o.seq} FROM oldest WHERE ${o.publishedAt} IS NOT NULL AND ${o.createdAt} < $1)
         RETURNING ${o.seq} AS seq`,
        [before, BATCH],
      ),
    );
    return removed.length;
  }
}
