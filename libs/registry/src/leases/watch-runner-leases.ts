import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger, PeriodicTask } from '@hub/config';
import { DEFAULT_RUNNER_LEASE_GRACE_SECONDS, RUNNERS_BUCKET } from '@hub/contracts';
import { RunnerHeartbeats, RunnerObservation } from '@hub/messaging';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';
import { judgeLease, LeaseJudgement, RunnerSighting } from './lease-decision';
import { RequeueLostRunnerSessions } from './requeue-lost-runner-sessions.use-case';
import { RunnerLeaseStore, RunnerSeen } from './runner-lease-store';

/** A runner silent and holding nothing is forgotten after a day. */
const FORGET_AFTER_MS = 24 * 3_600_000;

/** What one pass found. */
export interface LeasePass {
  /** The runners whose lease lapsed in this pass (or holding sessions still, past it), with the sessions moved. */
  lapsed: { runnerId: string; requeued: number }[];
}

/**
 * The registry's lease on each runner's sessions. Every few seconds (a third of the grace, between 1
 * and 5 s) it reads the runners' heartbeats (NATS KV `hub_runners`) and the runners holding sessions;
 * a runner silent for longer than its grace loses its sessions to the other runners
 * (RequeueLostRunnerSessions).
 *
 * When a runner was last heard is kept in memory and in the `runners` table: a heartbeat is a new KV
 * revision of its entry, timed by the registry's own clock when first read (no clock of another host
 * is compared with this one's). The table keeps it across a restart of the registry, after the KV
 * entry expired, and says which runners were lost. Silence is never counted from before the registry
 * could read the heartbeats without a break (`watchingSince`): after its own start, or a NATS outage
 * (during which the runners could not put theirs), every runner gets a full grace again.
 */
@Injectable()
export class WatchRunnerLeases extends PeriodicTask {
  readonly graceMs: number;
  readonly checkEveryMs: number;
  private readonly sightings = new Map<string, RunnerSighting>();
  private loaded = false;
  private watchingSince: Date | null = null;
  /** Why the heartbeats cannot be read now (logged once per outage). */
  private blindBecause: string | null = null;
  private running: Promise<LeasePass | null> | null = null;
  private readonly logger: HubLogger;

  constructor(
    private readonly heartbeats: RunnerHeartbeats,
    private readonly store: RunnerLeaseStore,
    private readonly requeue: RequeueLostRunnerSessions,
    @Inject(REGISTRY_SETTINGS) settings: RegistrySettings,
    @Inject(HUB_LOGGER) logger: HubLogger,
  ) {
    const graceMs = (settings.leaseGraceSeconds ?? DEFAULT_RUNNER_LEASE_GRACE_SECONDS) * 1000;
    const checkEveryMs = Math.min(5_000, Math.max(1_000, Math.round(graceMs / 3)));
    super({ everyMs: checkEveryMs, atStart: true });
    this.graceMs = graceMs;
    this.checkEveryMs = checkEveryMs;
    this.logger = logger.child({ component: 'runner-leases' });
  }

  /** One pass; concurrent calls share it. Null when it could not look (logged; nothing moved). */
  runOnce(): Promise<LeasePass | null> {
    this.running ??= this.pass()
      .catch((error) => {
        this.logger.warn({ err: (error as Error).message }, 'runner lease check failed; will retry');
        return null;
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  /** Since when the heartbeats have been read without a break; null: they cannot be read now. */
  get watching(): Date | null {
    return this.watchingSince;
  }

  /** The runner's lease as of `now`, or null while the registry cannot read the heartbeats (then nobody is judged lost). */
  judge(runnerId: string, now = new Date()): LeaseJudgement | null {
    if (!this.watchingSince) return null;
    return judgeLease(runnerId, this.sightings.get(runnerId), {
      now,
      watchingSince: this.watchingSince,
      graceMs: this.graceMs,
      checkEveryMs: this.checkEveryMs,
      defaultHeartbeatEveryMs: RUNNERS_BUCKET.heartbeatEveryMs,
    });
  }

  private async pass(): Promise<LeasePass | null> {
    if (!this.loaded) {
      for (const row of await this.store.all()) {
        this.sightings.set(row.id, { revision: row.heartbeatRevision, lastSeenAt: row.lastSeenAt, heartbeatEveryMs: row.heartbeatEveryMs, lostAt: row.lostAt });
      }
      this.loaded = true;
    }
    const observed = await this.observe();
    if (!observed) return null;
    const now = new Date();
    this.watchingSince ??= now;
    await this.store.recordSeen(this.newHeartbeats(observed, now));

    const lapsed: LeasePass['lapsed'] = [];
    const holders = await this.store.holders();
    for (const runnerId of new Set([...holders.keys(), ...this.sightings.keys()])) {
      const judged = this.judge(runnerId, now)!;
      if (!judged.lost) continue;
      const sighting = this.sightings.get(runnerId);
      const holds = holders.get(runnerId) ?? 0;
      if (sighting?.lostAt && holds === 0) continue;
      const lastSeenAt = sighting?.lastSeenAt ?? judged.silentSince;
      const requeued = holds ? await this.requeue.execute({ runnerId, lastSeenAt, graceSeconds: Math.round(judged.graceMs / 1000) }) : 0;
      if (!sighting?.lostAt) {
        const heartbeatEveryMs = sighting?.heartbeatEveryMs ?? RUNNERS_BUCKET.heartbeatEveryMs;
        await this.store.recordLost(runnerId, now, lastSeenAt, heartbeatEveryMs);
        this.sightings.set(runnerId, { revision: sighting?.revision ?? null, lastSeenAt, heartbeatEveryMs, lostAt: now });
        const fields = { runnerId, lastSeenAt: lastSeenAt.toISOString(), silentSeconds: Math.round(judged.silentMs / 1000), graceSeconds: judged.graceMs / 1000, requeued };
        const silence = `no heartbeat for ${fields.silentSeconds} s (lease grace ${fields.graceSeconds} s)`;
        // A runner that stopped (cleanly or not) holding nothing loses nothing: said, not warned.
        if (requeued) this.logger.warn(fields, `runner ${runnerId} lost: ${silence}; ${requeued} of its sessions back to ready`);
        else this.logger.info(fields, `runner ${runnerId} counted lost: ${silence}; it held no session`);
      } else if (requeued) {
        this.logger.warn({ runnerId, requeued }, `runner ${runnerId} is lost and held sessions still: ${requeued} back to ready`);
      }
      lapsed.push({ runnerId, requeued });
    }

    for (const runnerId of await this.store.forgetSilentSince(new Date(now.getTime() - FORGET_AFTER_MS))) {
      this.sightings.delete(runnerId);
      this.logger.info({ runnerId }, `runner ${runnerId} forgotten: silent for a day, holding nothing`);
    }
    return { lapsed };
  }

  /** The heartbeats now, or null (logged once per outage) when they cannot be read: the watch starts over. */
  private async observe(): Promise<Map<string, RunnerObservation> | null> {
    let why: string;
    try {
      const observed = await this.heartbeats.observe();
      if (observed) {
        if (this.blindBecause) this.logger.info('runner heartbeats readable again; every runner gets its full lease grace from now on');
        this.blindBecause = null;
        return observed;
      }
      why = 'no runner has put a heartbeat yet (the bucket hub_runners does not exist)';
    } catch (error) {
      why = `cannot read the runners' heartbeats: ${(error as Error).message}`;
    }
    if (this.blindBecause === null) this.logger.warn(`${why}; no runner is counted lost until they are read again`);
    this.blindBecause = why;
    this.watchingSince = null;
    return null;
  }

  /** The runners with a heartbeat the registry had not seen: alive now (and no longer lost). */
  private newHeartbeats(observed: Map<string, RunnerObservation>, now: Date): RunnerSeen[] {
    const seen: RunnerSeen[] = [];
    for (const [runnerId, entry] of observed) {
      const revision = String(entry.revision);
      const before = this.sightings.get(runnerId);
      if (before?.revision === revision) continue;
      const heartbeat = entry.ok ? entry.heartbeat : null;
      const heartbeatEveryMs = heartbeat?.heartbeatEveryMs ?? before?.heartbeatEveryMs ?? RUNNERS_BUCKET.heartbeatEveryMs;
      if (before?.lostAt) this.logger.info({ runnerId }, `runner ${runnerId} heartbeats again (its lease lapsed at ${before.lostAt.toISOString()})`);
      this.sightings.set(runnerId, { revision, lastSeenAt: now, heartbeatEveryMs, lostAt: null });
      seen.push({
        id: runnerId,
        lastSeenAt: now,
        heartbeatRevision: revision,
        heartbeatEveryMs,
        startedAt: heartbeat ? new Date(heartbeat.startedAt) : null,
        slots: heartbeat?.slots ?? 0,
        inUse: heartbeat?.inUse ?? 0,
        labels: heartbeat ? [...heartbeat.labels] : [],
        version: heartbeat?.version ?? null,
      });
    }
    return seen;
  }
}
