import { Injectable } from '@nestjs/common';
import type { ContainerExitCause } from '@hub/contracts';
import type { EgressAttempt } from '../egress/session-egress';

/** A session this runner is running now. */
export interface SessionInHand {
  sessionId: string;
  attempt: number;
  containerId: string | null;
  /** Set once its container has stopped (the engine's wait returned): what is left is reporting and cleaning up. */
  containerExited: boolean;
  /** Resolves once the session is released: reported, its container removed, its files discarded. */
  readonly ended: Promise<void>;
  /** Set when the runner itself stops the container: why it stopped. */
  stopCause: ContainerExitCause | null;
  /** Its way out through Hub's egress proxy (its bridge and proxy socket), when its policy allows any destination. */
  egress: EgressAttempt | null;
  /** When this runner took it in hand (Date.now()), and how many sessions it had taken before (takesSoFar). */
  readonly takenAt: number;
  readonly takeNumber: number;
  /**
   * Why this runner gave it up without reporting it, when the registry no longer gives it this attempt
   * (its lease lapsed while this runner was cut off, and the session went to another runner): its
   * container is stopped and removed, nothing of it is stored or reported. Null while it is this runner's.
   */
  abandoned: string | null;
}

/** How many reported attempts a runner remembers, so as not to call their sessions lost meanwhile. */
const REPORTS_REMEMBERED = 10_000;

/**
 * What this runner holds, in memory: the sessions it is running, those whose claim is on its way
 * (with any cancel that arrived meanwhile), and the attempts it reported. Reconciliation reads it to
 * tell a session that is running here from one that is lost.
 */
@Injectable()
export class SessionLedger {
  private readonly inHand = new Map<string, SessionInHand>();
  private readonly endOf = new Map<string, () => void>();
  private readonly claiming = new Set<string>();
  private readonly cancelledWhileClaiming = new Set<string>();
  private readonly reported = new Map<string, number>();
  private takes = 0;

  /** How many sessions this runner has taken in hand so far: those taken later have a larger takeNumber. */
  get takesSoFar(): number {
    return this.takes;
  }

  /** Sessions this runner is running now. */
  get size(): number {
    return this.inHand.size;
  }

  claimStarted(sessionId: string): void {
    this.claiming.add(sessionId);
  }

  claimSettled(sessionId: string): void {
    this.claiming.delete(sessionId);
    this.cancelledWhileClaiming.delete(sessionId);
  }

  /** Takes a session in hand; a cancel that arrived while it was being claimed is carried over. */
  take(sessionId: string, attempt: number): SessionInHand {
    let end: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const session: SessionInHand = {
      sessionId,
      attempt,
      containerId: null,
      containerExited: false,
      ended,
      stopCause: this.cancelledWhileClaiming.has(sessionId) ? 'cancelled' : null,
      egress: null,
      takenAt: Date.now(),
      takeNumber: ++this.takes,
      abandoned: null,
    };
    this.inHand.set(sessionId, session);
    this.endOf.set(sessionId, end);
    return session;
  }

  release(sessionId: string): void {
    this.inHand.delete(sessionId);
    this.endOf.get(sessionId)?.();
    this.endOf.delete(sessionId);
  }

  get(sessionId: string): SessionInHand | undefined {
    return this.inHand.get(sessionId);
  }

  /** The sessions this runner is running now. */
  sessions(): SessionInHand[] {
    return [...this.inHand.values()];
  }

  /** A cancel for a session whose claim has not been answered yet: honoured once it is in hand. */
  cancelWhileClaiming(sessionId: string): boolean {
    if (!this.claiming.has(sessionId)) return false;
    this.cancelledWhileClaiming.add(sessionId);
    return true;
  }

  /** Whether this runner is running that session now, or claiming it. */
  holds(sessionId: string): boolean {
    return this.inHand.has(sessionId) || this.claiming.has(sessionId);
  }

  recordReported(sessionId: string, attempt: number): void {
    this.reported.delete(sessionId);
    this.reported.set(sessionId, attempt);
    if (this.reported.size > REPORTS_REMEMBERED) this.reported.delete(this.reported.keys().next().value!);
  }

  /** Whether this runner has reported the end of that attempt (the registry may not have applied it yet). */
  hasReported(sessionId: string, attempt: number): boolean {
    return this.reported.get(sessionId) === attempt;
  }
}
