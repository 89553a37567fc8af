import { Injectable } from '@nestjs/common';
import { MAX_RUNNERS_LISTED, RunnerList, RunnerView } from '@hub/contracts';
import { RunnerEntity } from '@hub/persistence';
import { leaseGraceMs } from './lease-decision';
import { RunnerLeaseStore } from './runner-lease-store';
import { WatchRunnerLeases } from './watch-runner-leases';

/**
 * The runners as the registry knows them (`hub.registry.runners.list`): what their last heartbeats
 * said, kept in the `runners` table, judged by the lease watch, with the sessions each holds.
 */
@Injectable()
export class RunnerQueries {
  constructor(
    private readonly store: RunnerLeaseStore,
    private readonly leases: WatchRunnerLeases,
  ) {}

  async list(): Promise<RunnerList> {
    const now = new Date();
    const [rows, holders] = await Promise.all([this.store.all(), this.store.holders()]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const views = [...new Set([...holders.keys(), ...byId.keys()])].map((runnerId) =>
      this.view(runnerId, byId.get(runnerId), holders.get(runnerId) ?? 0, now),
    );
    // Those holding sessions first, the lost before the alive, then by id.
    views.sort((a, b) => Number(b.holds > 0) - Number(a.holds > 0) || Number(b.status === 'lost') - Number(a.status === 'lost') || a.runnerId.localeCompare(b.runnerId));
    return {
      runners: views.slice(0, MAX_RUNNERS_LISTED),
      leaseGraceSeconds: this.leases.graceMs / 1000,
      watchingSince: this.leases.watching?.toISOString() ?? null,
    };
  }

  private view(runnerId: string, row: RunnerEntity | undefined, holds: number, now: Date): RunnerView {
    const judged = this.leases.judge(runnerId, now);
    // While the heartbeats cannot be read, the table says what was last known.
    const lastSeenAt = row?.lastSeenAt ?? judged?.silentSince ?? now;
    const silentMs = judged?.silentMs ?? Math.max(0, now.getTime() - lastSeenAt.getTime());
    const graceMs = judged?.graceMs ?? leaseGraceMs(this.leases.graceMs, row?.heartbeatEveryMs ?? 0, this.leases.checkEveryMs);
    const lost = judged ? judged.lost : row?.lostAt != null;
    return {
      runnerId,
      status: lost ? 'lost' : 'alive',
      labels: row?.labels ?? [],
      slots: row?.slots ?? 0,
      inUse: row?.inUse ?? 0,
      startedAt: row?.startedAt?.toISOString() ?? null,
      version: row?.version ?? null,
      lastSeenAt: lastSeenAt.toISOString(),
      silentSeconds: Math.round(silentMs / 100) / 10,
      graceSeconds: graceMs / 1000,
      lostAt: lost ? (row?.lostAt?.toISOString() ?? null) : null,
      holds,
    };
  }
}
