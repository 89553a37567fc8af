import { Inject, Injectable } from '@nestjs/common';
import { MAX_ORCHESTRATION_SESSIONS, SessionStatus, waitingForRunnerReason } from '@hub/contracts';
import { budgetAdmission } from '../budgets/budget-admission';
import { newEvent } from '../outbox/new-event';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';
import { SessionRecord } from '../store/session-record';
import { MovedSession, ReadySession, SessionTransaction } from '../store/session-store';
import { policyOf } from '../tenants/tenant-policies';

const HOLDS_A_PLACE: readonly SessionStatus[] = ['ready', 'starting', 'running'];
const HELD: readonly SessionStatus[] = ['starting', 'running'];
/** How many of a tenant's ready sessions are read at a time while places are handed out. */
const TENANT_BATCH = 100;

/** Ready sessions a budget cannot cover: they end `skipped` with `reason`. */
export interface BudgetRefusal {
  sessionIds: string[];
  reason: string;
}

/** How many more of an orchestration's ready sessions may be handed out now; `refusal`: its budget covers none. */
interface Room {
  room: number;
  refusal?: string;
}

/**
 * Hands ready sessions to the runners (`session.ready`). An orchestration with maxParallel has its
 * ready sessions held back while that many are in flight; one with a budget, while what is left
 * does not cover another (budgetAdmission); both are released in order of readiness as places free.
 * When the budget covers no further session, its ready sessions are refused (the caller skips them).
 * A tenant with maxConcurrentSessions (HUB_TENANTS) has its sessions held back while that many are
 * in flight over all its orchestrations; a place it frees goes to its longest-waiting ready
 * sessions, in any of its orchestrations, each still within its orchestration's own limits.
 * Runs inside the transaction of every move, so the counts it decides on are exact.
 *
 * Lock order: a limited tenant's decisions are serialised by its advisory lock (lockTenant), taken
 * before any row: by the transaction before its move (beforeMove, or the use case itself), then
 * orchestration rows, then ready sessions skipping those another transaction holds. A transaction
 * holding the tenant's lock therefore waits only for transactions that do not want it.
 */
@Injectable()
export class ReadyDispatch {
  private readonly anyTenantLimited: boolean;

  constructor(@Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings) {
    this.anyTenantLimited = [...settings.tenants.values()].some((policy) => policy.maxConcurrentSessions !== null);
  }

  /** Before a transaction moves a session from one of `from` to `to`: the tenant's lock, if the move may decide on its places. */
  async beforeMove(tx: SessionTransaction, sessionId: string, from: readonly SessionStatus[], to: SessionStatus): Promise<void> {
    const mayDecide = to === 'ready' || (!HELD.includes(to) && from.some((status) => HOLDS_A_PLACE.includes(status)));
    if (mayDecide) await this.lockTenantOf(tx, sessionId);
  }

  /** The lock of the session's tenant, when it has a limit (the tenant read without a lock: it never changes). */
  async lockTenantOf(tx: SessionTransaction, sessionId: string): Promise<void> {
    if (!this.anyTenantLimited) return;
    const tenant = await tx.tenantOf(sessionId);
    if (tenant) await this.lockTenant(tx, tenant);
  }

  /** Serialises the tenant's dispatch decisions until commit, when it has a limit (nothing otherwise). */
  async lockTenant(tx: SessionTransaction, tenant: string): Promise<void> {
    if (this.limitOf(tenant) !== null) await tx.lockTenant(tenant);
  }

  async afterMove(tx: SessionTransaction, session: SessionRecord, previous: SessionStatus): Promise<BudgetRefusal | null> {
    const becameReady = session.status === 'ready';
    const freedAPlace = HOLDS_A_PLACE.includes(previous) && !HELD.includes(session.status);
    if (!becameReady && !freedAPlace) return null;
    const limit = this.limitOf(session.tenant);
    if (limit === null) return this.withinOrchestration(tx, session, becameReady);
    await tx.lockTenant(session.tenant);
    const own = await this.roomOf(tx, session.orchestrationId);
    await this.releaseTenant(tx, session.tenant, limit, new Map([[session.orchestrationId, own.refusal ? 0 : own.room]]));
    return own.refusal ? this.refuse(tx, session.orchestrationId, own.refusal, { skipLocked: true }) : null;
  }

  /** After a bulk move (an orchestration cancelled): the places its sessions held go to their tenant's waiting ones. */
  async afterBulkMove(tx: SessionTransaction, moved: MovedSession[]): Promise<void> {
    const freed = moved.filter((m) => HELD.includes(m.previousStatus) || (m.previousStatus === 'ready' && m.wasDispatched));
    for (const tenant of new Set(freed.map((m) => m.tenant))) {
      const limit = this.limitOf(tenant);
      if (limit === null) continue;
      await tx.lockTenant(tenant);
      await this.releaseTenant(tx, tenant, limit, new Map());
    }
  }

  /** An orchestration's ready sessions, for a tenant without a limit of its own. */
  private async withinOrchestration(tx: SessionTransaction, session: SessionRecord, becameReady: boolean): Promise<BudgetRefusal | null> {
    const limits = await tx.orchestrationLimits(session.orchestrationId);
    if (limits.maxParallel === null && limits.budget === null) {
      if (becameReady) await this.dispatch(tx, [session]);
      return null;
    }
    const { room, refusal } = await this.lockedRoom(tx, session.orchestrationId);
    if (refusal) return this.refuse(tx, session.orchestrationId, refusal);
    if (room > 0) {
      const limit = Number.isFinite(room) ? room : MAX_ORCHESTRATION_SESSIONS;
      await this.dispatch(tx, await tx.undispatchedReady(session.orchestrationId, limit));
    }
    return null;
  }

  /**
   * Hands out the tenant's longest-waiting ready sessions while it has room under `limit`, each
   * within its orchestration's room (`rooms`, filled in as orchestrations come up).
   */
  private async releaseTenant(tx: SessionTransaction, tenant: string, limit: number, rooms: Map<string, number>): Promise<void> {
    let room = limit - (await tx.tenantInFlightCount(tenant));
    const full = [...rooms].filter(([, left]) => left <= 0).map(([id]) => id);
    const seen: string[] = [];
    const chosen: ReadySession[] = [];
    while (room > 0) {
      const batch = await tx.tenantUndispatchedReady(tenant, { orchestrations: full, sessions: seen }, TENANT_BATCH);
      for (const session of batch) {
        if (room <= 0) break;
        seen.push(session.id);
        const id = session.orchestrationId;
        if (!rooms.has(id)) rooms.set(id, (await this.roomOf(tx, id)).room);
        const left = rooms.get(id)!;
        if (left > 0) {
          chosen.push(session);
          room--;
          rooms.set(id, left - 1);
        }
        if (left <= 1 && !full.includes(id)) full.push(id);
      }
      if (batch.length < TENANT_BATCH) break;
    }
    await this.dispatch(tx, chosen);
  }

  /** The orchestration's room; decided under its row lock when it has a maxParallel or a budget. */
  private async roomOf(tx: SessionTransaction, orchestrationId: string): Promise<Room> {
    const limits = await tx.orchestrationLimits(orchestrationId);
    if (limits.maxParallel === null && limits.budget === null) return { room: Number.POSITIVE_INFINITY };
    return this.lockedRoom(tx, orchestrationId);
  }

  private async lockedRoom(tx: SessionTransaction, orchestrationId: string): Promise<Room> {
    const spending = await tx.lockOrchestrationSpending(orchestrationId);
    if (!spending) return { room: 0 };
    const inFlight = await tx.inFlightCount(orchestrationId);
    const room = spending.maxParallel === null ? Number.POSITIVE_INFINITY : spending.maxParallel - inFlight;
    if (!spending.budget) return { room };
    const admission = budgetAdmission(spending.budget, spending.usage, inFlight, await tx.largestAttempt(orchestrationId));
    return admission.exhausted ? { room: 0, refusal: admission.reason } : { room: Math.min(room, admission.room) };
  }

  private async refuse(
    tx: SessionTransaction,
    orchestrationId: string,
    reason: string,
    options?: { skipLocked: boolean },
  ): Promise<BudgetRefusal | null> {
    const refused = await tx.undispatchedReady(orchestrationId, MAX_ORCHESTRATION_SESSIONS, options);
    return refused.length ? { sessionIds: refused.map((s) => s.id), reason } : null;
  }

  private limitOf(tenant: string): number | null {
    return policyOf(this.settings.tenants, tenant).maxConcurrentSessions;
  }

  private async dispatch(tx: SessionTransaction, sessions: ReadySession[]): Promise<void> {
    if (!sessions.length) return;
    await tx.markDispatched(sessions.map((s) => s.id));
    // A session only some runners may run says so while it waits for one of them.
    const labelled = sessions.filter((s) => s.runnerLabels.length);
    await tx.noteWaiting(labelled.map((s) => ({ id: s.id, note: waitingForRunnerReason(s.runnerLabels) })));
    const now = Date.now();
    await tx.appendEvents(
      sessions.map((s) =>
        newEvent('session.ready', {
          sessionId: s.id,
          orchestrationId: s.orchestrationId,
          attempt: s.attempt + 1,
          notBefore: s.readyAt && s.readyAt.getTime() > now ? s.readyAt.toISOString() : null,
          image: s.image,
          ...(s.runnerLabels.length ? { runnerLabels: s.runnerLabels } : {}),
        }),
      ),
    );
  }
}
