/** What the registry knows of one runner's heartbeats. */
export interface RunnerSighting {
  /** The KV revision of its last heartbeat read (null: known only from a session it holds). */
  revision: string | null;
  /** When the registry saw that heartbeat first (its own clock), or null when it never saw one. */
  lastSeenAt: Date | null;
  /** How often the runner said it puts its heartbeat. */
  heartbeatEveryMs: number;
  /** When its lease lapsed; null while it is alive. */
  lostAt: Date | null;
}

/** One runner's lease, judged. */
export interface LeaseJudgement {
  runnerId: string;
  /** From when its silence counts: its last heartbeat, or when the registry began to watch, whichever is later. */
  silentSince: Date;
  silentMs: number;
  /** The silence past which it is lost. */
  graceMs: number;
  lost: boolean;
}

/**
 * The silence past which a runner is lost: the configured grace, but never less than two of its
 * heartbeat periods and a check period (a runner that put one heartbeat late, or whose put fell just
 * after a check, is not lost).
 */
export function leaseGraceMs(configuredMs: number, heartbeatEveryMs: number, checkEveryMs: number): number {
  return Math.max(configuredMs, 2 * heartbeatEveryMs + checkEveryMs);
}

/**
 * Judges a runner's lease. Its silence is counted from its last heartbeat, but never from before
 * `watchingSince`, the start of the registry's unbroken run of successful reads: a registry that just
 * started, or that could not read the heartbeats for a while (NATS down: the runners could not put
 * theirs either), gives every runner a full grace from then on.
 */
export function judgeLease(
  runnerId: string,
  sighting: RunnerSighting | undefined,
  view: { now: Date; watchingSince: Date; graceMs: number; checkEveryMs: number; defaultHeartbeatEveryMs: number },
): LeaseJudgement {
  const lastSeen = sighting?.lastSeenAt ?? null;
  const silentSince = lastSeen && lastSeen > view.watchingSince ? lastSeen : view.watchingSince;
  const silentMs = Math.max(0, view.now.getTime() - silentSince.getTime());
  const graceMs = leaseGraceMs(view.graceMs, sighting?.heartbeatEveryMs ?? view.defaultHeartbeatEveryMs, view.checkEveryMs);
  return { runnerId, silentSince, silentMs, graceMs, lost: silentMs > graceMs };
}
