import { z } from 'zod';
import { MAX_RUNNER_LABELS, RunnerLabelSchema } from './runner-labels';

/** What a runner's id may be (HUB_RUNNER_ID): it labels its containers (`hub.runner`) and keys its heartbeat. */
export const RUNNER_ID_PATTERN = /^[a-zA-Z0-9_.-]{1,64}$/;

/**
 * Runners announce themselves in a NATS KV bucket: one entry per runner, keyed by its id, put again
 * every `heartbeatEveryMs`. The bucket's max age (`maxAgeMs`) makes an entry vanish when its runner
 * stops putting it (a crash, a lost host); a runner that stops cleanly deletes its own. An entry
 * present means a runner alive within the last `maxAgeMs`, by the NATS server's clock.
 */
export const RUNNERS_BUCKET = {
  name: 'hub_runners',
  heartbeatEveryMs: 10_000,
  maxAgeMs: 60_000,
  writtenBy: 'container-runner',
  /** The runners' janitors (which runners are there), and the registry: each runner's lease on its sessions (docs/scaling.md). */
  readBy: ['container-runner', 'session-registry'],
} as const;

/** One runner's entry in RUNNERS_BUCKET. Fields unknown to this version are dropped on read, so a newer runner's entry still reads. */
export const RunnerHeartbeatSchema = z.object({
  runnerId: z.string().regex(RUNNER_ID_PATTERN),
  /** When this runner process started. */
  startedAt: z.iso.datetime({ offset: true }),
  /** Its container slots (HUB_RUNNER_SLOTS), and how many are in use. */
  slots: z.number().int().min(0),
  inUse: z.number().int().min(0),
  /** Its labels (HUB_RUNNER_LABELS): it runs the sessions whose runnerLabels it has every one of. Absent in an older runner's entry: none. */
  labels: z.array(RunnerLabelSchema).max(MAX_RUNNER_LABELS).default([]),
  version: z.string().min(1).max(100).optional(),
  /**
   * How often this runner puts its entry (HUB_RUNNER_HEARTBEAT_SECONDS; RUNNERS_BUCKET.heartbeatEveryMs
   * when absent): the registry never counts a runner lost before it was silent for two of them.
   */
  heartbeatEveryMs: z.number().int().min(100).max(RUNNERS_BUCKET.maxAgeMs).optional(),
});
export type RunnerHeartbeat = z.infer<typeof RunnerHeartbeatSchema>;
/** A heartbeat as a runner puts it: what the schema defaults (labels) may be left out. */
export type RunnerHeartbeatInput = z.input<typeof RunnerHeartbeatSchema>;

/**
 * The id of one Hub deployment (installation): made once, by the first runner that finds none
 * (create-if-absent), and read by every other runner of the deployment, since they share its NATS.
 * Every container a runner creates is labelled with it (`hub.installation`), so that the janitor of
 * one deployment never touches another's containers on a shared Docker engine. Kept for as long as
 * the JetStream store is: a store started afresh makes a new id, and the containers labelled with
 * the old one are then nobody's to clean.
 */
export const INSTALLATION_BUCKET = {
  name: 'hub_installation',
  key: 'id',
  writtenBy: 'container-runner',
  readBy: ['container-runner'],
} as const;

export const InstallationIdSchema = z.string().regex(/^[a-zA-Z0-9_-]{8,64}$/, 'must be 8 to 64 letters, digits, _ or -');
