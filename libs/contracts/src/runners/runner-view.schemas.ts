import { z } from 'zod';

/** How long a runner may go without a heartbeat before its sessions go to other runners (HUB_RUNNER_LEASE_GRACE_SECONDS). */
export const DEFAULT_RUNNER_LEASE_GRACE_SECONDS = 30;

/**
 * The start of the reason of an attempt that ended because its runner's lease lapsed (the runner
 * stopped heartbeating): the session runs again without spending its retries.
 */
export const RUNNER_LOST_REASON = 'runner_lost';

/**
 * A runner as the registry knows it: from its heartbeats (RUNNERS_BUCKET), which the registry reads
 * every few seconds and keeps (the `runners` table), and the sessions it holds.
 * - `alive`: a heartbeat within its lease grace;
 * - `lost`: none for longer: the sessions it held went back to `ready`, for other runners.
 */
export const RunnerViewSchema = z.object({
  runnerId: z.string(),
  status: z.enum(['alive', 'lost']),
  /** Its labels (HUB_RUNNER_LABELS), as its last heartbeat said. */
  labels: z.array(z.string()),
  /** Its container slots and how many were in use, as its last heartbeat said. */
  slots: z.number().int().min(0),
  inUse: z.number().int().min(0),
  /** When its process started (its last heartbeat's), and its version when it says. */
  startedAt: z.string().nullable(),
  version: z.string().nullable(),
  /** When the registry last saw a new heartbeat of it (the registry's clock). */
  lastSeenAt: z.string(),
  /** How long it has been silent, as of the registry's last look. */
  silentSeconds: z.number().min(0),
  /** The silence past which it is lost: the lease grace, at least two of its heartbeats. */
  graceSeconds: z.number().min(0),
  /** When its lease lapsed (status lost), or null. */
  lostAt: z.string().nullable(),
  /** The sessions it holds now (starting or running, claimed by it). */
  holds: z.number().int().min(0),
});
export type RunnerView = z.infer<typeof RunnerViewSchema>;

/** At most this many runners are listed (those holding sessions first): the answer fits one NATS message. */
export const MAX_RUNNERS_LISTED = 1000;

export const RunnerListSchema = z.object({
  /** Every runner seen within the last day, or holding a session, by id. */
  runners: z.array(RunnerViewSchema).max(MAX_RUNNERS_LISTED),
  /** HUB_RUNNER_LEASE_GRACE_SECONDS. */
  leaseGraceSeconds: z.number().min(0),
  /**
   * Since when the registry has read the heartbeats without a break (null: it cannot read them now).
   * No runner is counted lost before it has watched for the grace: a registry that just started, or
   * a NATS that was down, never re-queues a live runner's sessions.
   */
  watchingSince: z.string().nullable(),
});
export type RunnerList = z.infer<typeof RunnerListSchema>;
