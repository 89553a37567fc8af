import type { ContainerLimits } from './ports/container-engine.port';
import type { OutputLimits } from './output/collect-output';
import type { RunnerSecrets } from './secrets/runner-secrets';
import type { NetworkPolicy } from './sessions/image-policy';

export const CONTAINER_ENGINE = Symbol('CONTAINER_ENGINE');
export const RUNNER_SETTINGS = Symbol('RUNNER_SETTINGS');
/** How much of the live logs (HUB_LOGS, every attempt's together) JetStream keeps: a `LiveLogLimits`. */
export const LIVE_LOG_LIMITS = Symbol('LIVE_LOG_LIMITS');

export interface RunnerSettings {
  runnerId: string;
  /** Host directory under which each attempt's output directory is made. */
  dataDir: string;
  /** uid:gid the agent runs as. */
  containerUser: string;
  limits: ContainerLimits;
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
  /** Secrets given to the containers of the images granted them, masked in what Hub captures. */
  secrets: RunnerSecrets;
  /**
   * Host directories under which a session's `repository` may be a local path (a bare repository,
   * say), from which the runner prepares a session's workspace. Empty: local paths are refused.
   */
  localRepositoryRoots: string[];
  /** The images the health check expects to find. */
  expectedImages: string[];
  /** How often containers are reconciled with the sessions the registry says this runner holds (also at start). */
  reconcileIntervalMs: number;
}
