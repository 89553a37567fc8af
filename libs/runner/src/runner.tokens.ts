import type { EgressPolicy } from '@hub/contracts';
import type { EgressOverride } from './egress/egress-overrides';
import type { ContainerLimits } from './ports/container-engine.port';
import type { OutputLimits } from './output/collect-output';
import type { RunnerSecrets } from './secrets/runner-secrets';
import type { ImageEnvironment } from './sessions/image-environment';
import type { RateLimitWait } from './usage/agent-usage';
import type { NetworkPolicy } from './sessions/image-policy';

export const CONTAINER_ENGINE = Symbol('CONTAINER_ENGINE');
export const RUNNER_SETTINGS = Symbol('RUNNER_SETTINGS');
/** How much of the live logs (HUB_LOGS, every attempt's together) JetStream keeps: a `LiveLogLimits`. */
export const LIVE_LOG_LIMITS = Symbol('LIVE_LOG_LIMITS');
/** A session container's /tmp when the settings name no size (HUB_CONTAINER_TMPFS_MB's default). */
export const DEFAULT_CONTAINER_TMP_BYTES = 512 * 1024 * 1024;

export interface RunnerSettings {
  runnerId: string;
  /**
   * HUB_RUNNER_LABELS (sorted): this runner claims only the sessions whose runnerLabels it has every
   * one of; it hands the others back for another runner. Default none.
   */
  labels?: readonly string[];
  /** Host directory under which each attempt's output directory is made. */
  dataDir: string;
  /** uid:gid the agent runs as. */
  containerUser: string;
  limits: ContainerLimits;
  /**
   * The size of each session container's /tmp (bytes; HUB_CONTAINER_TMPFS_MB), a tmpfs: its root
   * filesystem is read-only. Default DEFAULT_CONTAINER_TMP_BYTES.
   */
  containerTmpBytes?: number;
  stopGraceSeconds: number;
  outputLimits: OutputLimits;
  /** The log kept of each attempt (bytes); what a container prints beyond it is counted, not kept, nor shown live. */
  logCapBytes: number;
  /** The image the runner's git helper containers run (git and a POSIX sh): capture runs there, never on the host. */
  gitHelperImage: string;
  /** Where repositories are fetched from, rewritten by prefix (the first rule that matches). */
  repositoryRewrites: { from: string; to: string }[];
  /** What a session may write to /hub/output (bytes, and the largest single file); past it the session fails. */
  outputQuotaBytes: number;
  /** The network each image's containers join (default none). */
  networks: NetworkPolicy;
  /** What each image's sessions may reach through the runner's egress proxy, and the bridge they reach it by. */
  egress: EgressSettings;
  /** Secrets given to the containers of the images granted them, masked in what Hub captures. */
  secrets: RunnerSecrets;
  /** HUB_IMAGE_ENV: plain settings (never secrets) given to the containers of the images they name. */
  imageEnvironment: ImageEnvironment;
  /**
   * Host directories under which a session's `repository` may be a local path (a bare repository,
   * say), from which the runner prepares a session's workspace. Empty: local paths are refused.
   */
  localRepositoryRoots: string[];
  /** The images the health check expects to find. */
  expectedImages: string[];
  /** How often containers are reconciled with the sessions the registry says this runner holds (also at start). */
  reconcileIntervalMs: number;
  /**
   * HUB_RUNNER_HEARTBEAT_SECONDS: how often this runner puts its heartbeat (default
   * RUNNERS_BUCKET.heartbeatEveryMs). The registry's lease grace is never less than two of them.
   */
  heartbeatEveryMs?: number;
  /**
   * HUB_RATE_LIMIT_WAIT_SECONDS / HUB_RATE_LIMIT_MAX_WAIT_SECONDS: how long a rate limit an agent
   * reports without a reset is waited out, and the longest any is. Default DEFAULT_RATE_LIMIT_WAIT.
   */
  rateLimitWait?: RateLimitWait;
}

export interface EgressSettings {
  /** HUB_EGRESS: the destinations each image's sessions may reach (a session may narrow it). */
  policy: EgressPolicy;
  /** HUB_EGRESS_RESOLVE: names the proxy connects to a given address, without DNS. */
  resolve: ReadonlyMap<string, EgressOverride>;
  /** HUB_EGRESS_BRIDGE_IMAGE: the helper image (socat) a session's container reaches the proxy through. */
  bridgeImage: string;
}
