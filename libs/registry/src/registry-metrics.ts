import { isTerminal, SESSION_STATUSES, type SessionStatus, TERMINAL_STATUSES } from '@hub/contracts';
import type { HubLogger } from '@hub/config';
import { HubCounter, hubCounter, hubGauge, HubHistogram, hubHistogram, type MetricsRegistry, processMetrics } from '@hub/metrics';
import { SessionEntity } from '@hub/persistence';
import type { DataSource } from 'typeorm';
import type { SessionRecord } from './store/session-record';

/** From ready to running: well under a second when a slot is free, minutes when every runner is full. */
const DISPATCH_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** A session runs seconds to hours. */
const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400];

const seconds = (fromMs: number, toMs: number) => Math.max(0, toMs - fromMs) / 1000;

/**
 * The session-registry's metrics. Moves are counted as SessionTransitions writes them (inside their
 * transaction: one rolled back after the move would count anyway, which Hub's use cases do not do);
 * `hub_sessions` and `hub_ready_undispatched` are read from PostgreSQL when /metrics is scraped.
 */
export class RegistryMetrics {
  private readonly transitions: HubCounter<'to'>;
  private readonly dispatchLatency: HubHistogram<never>;
  private readonly duration: HubHistogram<'status'>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: HubLogger,
    registry: MetricsRegistry = processMetrics(),
  ) {
    this.transitions = hubCounter(registry, {
      name: 'hub_session_transitions_total',
      help: 'Session status changes written, by the status moved to',
      labels: { to: SESSION_STATUSES },
      startAtZero: true,
    });
    this.dispatchLatency = hubHistogram(registry, {
      name: 'hub_dispatch_latency_seconds',
      help: 'From a session becoming ready (readyAt) to its move to running',
      labels: {},
      buckets: DISPATCH_LATENCY_BUCKETS,
      startAtZero: true,
    });
    this.duration = hubHistogram(registry, {
      name: 'hub_session_duration_seconds',
      help: "From a session's start (startedAt) to its end, by the status it ended in",
      labels: { status: TERMINAL_STATUSES },
      buckets: DURATION_BUCKETS,
      startAtZero: true,
    });
    hubGauge(registry, { name: 'hub_sessions', help: 'Sessions stored, by status', labels: { status: SESSION_STATUSES } }, async (gauge) => {
      const counts = await this.read('hub_sessions', () => this.countsByStatus());
      if (!counts) return gauge.reset();
      for (const status of SESSION_STATUSES) gauge.set({ status }, counts.get(status) ?? 0);
    });
    hubGauge(registry, { name: 'hub_ready_undispatched', help: 'Sessions ready and not yet handed to the runners', labels: {} }, async (gauge) => {
      const count = await this.read('hub_ready_undispatched', () => this.readyUndispatched());
      if (count === null) return gauge.reset();
      gauge.set({}, count);
    });
  }

  /** A session moved (SessionTransitions.moveWithin): counted, and timed when it starts running or ends. */
  moved(session: Pick<SessionRecord, 'status' | 'readyAt' | 'startedAt' | 'finishedAt'>): void {
    const now = Date.now();
    this.transitions.inc({ to: session.status });
    if (session.status === 'running' && session.readyAt) this.dispatchLatency.observe({}, seconds(session.readyAt.getTime(), now));
    if (isTerminal(session.status) && session.startedAt) {
      this.duration.observe({ status: session.status }, seconds(session.startedAt.getTime(), session.finishedAt?.getTime() ?? now));
    }
  }

  /** Sessions moved together (SessionTransitions.moveManyWithin): counted; a bulk move never takes a running session, so nothing is timed. */
  movedMany(to: SessionStatus, count: number): void {
    this.transitions.inc({ to }, count);
  }

  private async countsByStatus(): Promise<Map<string, number>> {
    const rows: { status: string; count: string }[] = await this.dataSource
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .select('s.status', 'status')
      .addSelect('count(*)', 'count')
      .groupBy('s.status')
      .getRawMany();
    return new Map(rows.map((row) => [row.status, Number(row.count)]));
  }

  private async readyUndispatched(): Promise<number> {
    return this.dataSource
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .where("s.status = 'ready'")
      .andWhere('s.dispatchedAt IS NULL')
      .getCount();
  }

  /** A gauge whose source cannot be read (PostgreSQL down) is left out of the scrape, and said so in the log. */
  private async read<T>(metric: string, query: () => Promise<T>): Promise<T | null> {
    try {
      return await query();
    } catch (error) {
      this.logger.warn({ metric, err: (error as Error).message }, 'metric not read');
      return null;
    }
  }
}
