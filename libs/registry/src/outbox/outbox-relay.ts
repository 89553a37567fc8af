import { Inject, Injectable } from '@nestjs/common';
import { Any, DataSource } from 'typeorm';
import { OutboxEventEntity } from '@hub/persistence';
import { EventPublisher } from '@hub/messaging';
import { HUB_LOGGER, HubLogger, PeriodicTask } from '@hub/config';

const BATCH_SIZE = 500;
const SWEEP_INTERVAL_MS = 1_000;

/**
 * Publishes outbox rows to JetStream in the order they were written, then marks them published.
 * Kicked after every commit so events leave at once; a periodic sweep catches whatever a crash or a
 * NATS outage left behind. JetStream drops a re-published row by its message id. Each row's publish
 * continues the trace it was written in (its trace_context), whenever it leaves.
 */
@Injectable()
export class OutboxRelay extends PeriodicTask {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: EventPublisher,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {
    // Relays what is pending as the registry starts, then sweeps every SWEEP_INTERVAL_MS while it runs.
    super({ everyMs: SWEEP_INTERVAL_MS, atStart: true });
  }

  /** One sweep, coalesced with any pass under way (kick). */
  runOnce(): void {
    this.kick();
  }

  /** Relays what is pending now. Concurrent kicks coalesce into one more pass. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error) => this.logger.warn({ err: (error as Error).message }, 'outbox relay pass failed; will retry'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves once everything written so far has been published. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    await this.drain();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const { relayed, failure } = await this.relayBatch();
      if (failure) throw failure;
      if (relayed < BATCH_SIZE) return;
    }
  }

  /**
   * Publishes a batch with every publish in flight at once (publishEnvelopes): they leave in outbox
   * order on one connection, so the stream keeps that order, and the acknowledgements come back
   * together. One at a time, each waiting for its acknowledgement, a 10,000-session orchestration's
   * events took seconds. Rows whose publish was acknowledged are marked; a failed one stays pending
   * for the next pass, which republishes it after those of its batch that got through.
   */
  private async relayBatch(): Promise<{ relayed: number; failure: unknown }> {
    return this.dataSource.transaction(async (em) => {
      const rows = await em
        .createQueryBuilder(OutboxEventEntity, 'o')
        .select(['o.seq', 'o.envelope', 'o.traceContext'])
        .where('o.publishedAt IS NULL')
        .orderBy('o.seq')
        .limit(BATCH_SIZE)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      if (!rows.length) return { relayed: 0, failure: null };
      const results = await this.publisher.publishEnvelopes(rows.map((row) => ({ envelope: row.envelope, traceContext: row.traceContext })));
      const published = rows.filter((_, i) => results[i].status === 'fulfilled').map((row) => row.seq);
      if (published.length) {
        await em.update(OutboxEventEntity, { seq: Any(published) }, { publishedAt: () => 'now()' });
      }
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      return { relayed: rows.length, failure: failed ? failed.reason : null };
    });
  }
}
