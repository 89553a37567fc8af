/**
 * The runner's view of a container engine. The Docker implementation lives in ../docker;
 * use cases depend only on this interface.
 */
export interface ContainerLimits {
  memoryBytes: number;
  nanoCpus: number;
  pids: number;
}

/** Where the session's git workspace (prepared by Hub) is mounted, read-write. */
export const CONTAINER_WORKSPACE_DIR = '/workspace';

/** Where the session's prompt is mounted, read-only: a file, so any prompt the API accepts arrives whole. */
export const CONTAINER_PROMPT_FILE = '/hub/prompt';
export const CONTAINER_CONTEXT_FILE = '/hub/context';

/** Where each input is mounted (read-only) inside the container: `<CONTAINER_INPUTS_DIR>/<name>`. */
export const CONTAINER_INPUTS_DIR = '/hub/inputs';

/** Where the session's output directory is mounted, read-write. */
export const CONTAINER_OUTPUT_DIR = '/hub/output';

/**
 * The container's scratch space: a tmpfs (its pages count against the memory limit), and HOME unless
 * the image's HOME is another place the agent may write. The root filesystem is read-only: /tmp, the
 * workspace and /hub/output are the only places an agent writes.
 */
export const CONTAINER_TMP_DIR = '/tmp';

export interface ContainerInput {
  /** Directory name under /hub/inputs/ inside the container. */
  name: string;
  /** Host directory mounted read-only there. */
  hostPath: string;
}

export interface ContainerLaunch {
  sessionId: string;
  attempt: number;
  image: string;
  env: Record<string, string>;
  /** Host directory mounted read-write at /hub/output. */
  outputDir: string;
  /** Host file mounted read-only at /hub/prompt. */
  promptFile: string;
  /** Host file mounted read-only at /hub/context; null when the session has no context. */
  contextFile?: string | null;
  /** The session's git workspace on the host, mounted read-write at /workspace. */
  workspaceDir: string;
  inputs: ContainerInput[];
  /**
   * The Docker network to join: `none` (loopback only) unless the runner's policy says otherwise, or
   * `container:<id>` to share a helper's network namespace (the egress bridge's: loopback only too).
   */
  network: string;
  limits: ContainerLimits;
  /** uid:gid the agent runs as; never root. */
  user: string;
  runnerId: string;
  /**
   * The runner's cap on the log it keeps (bytes). Docker's own log file for the container is sized
   * from it (at least 1 MiB, two files), so a container printing without end never fills the host's disk.
   */
  logCapBytes: number;
  /**
   * The largest file the agent may write (bytes; the `fsize` ulimit): a write past it fails (the
   * writer gets SIGXFSZ), so no single file outgrows the session's disk quota between two of its polls.
   */
  fileSizeLimitBytes: number;
  /** The size of its /tmp (a tmpfs, bytes; HUB_CONTAINER_TMPFS_MB): its root filesystem is read-only. */
  tmpBytes: number;
}

/** A host directory a helper container sees. */
export interface HelperMount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

/**
 * A short-lived container that does one job for the runner on something an agent left (its
 * workspace, say), so that nothing the agent wrote is interpreted on the host: as hardened as a
 * session's container (no network at all, every capability dropped, no-new-privileges, a non-root
 * user, memory, CPU, PID and file-size limits), with a read-only root filesystem and a time limit.
 */
export interface HelperLaunch {
  /** What it is for (lowercase letters, digits, dashes): in its name (`hub-helper-<purpose>-<random>`) and label `hub.helper`. */
  purpose: string;
  image: string;
  /** Run as the entrypoint (the image's own is replaced); no shell is added. */
  command: string[];
  env: Record<string, string>;
  mounts: HelperMount[];
  /** uid:gid it runs as; never root. */
  user: string;
  limits: ContainerLimits;
  /** The largest file it may write (bytes; the `fsize` ulimit). */
  fileSizeLimitBytes: number;
  /** Killed past this. */
  timeoutMs: number;
  runnerId: string;
}

/**
 * A helper that runs beside a session's container until the runner removes it (its egress bridge):
 * hardened as any helper, labelled with the session (hub.session) besides hub.helper.
 */
export interface SessionHelperLaunch extends Omit<HelperLaunch, 'timeoutMs'> {
  sessionId: string;
  /** More labels (what it was started for), read back by listHelperContainers. */
  labels: Record<string, string>;
}

/** A helper container as listHelperContainers finds it. */
export interface HelperContainer {
  containerId: string;
  createdAt: Date;
  /** Its hub.helper label. */
  purpose: string;
  /** The session it serves (a SessionHelperLaunch), else null. */
  sessionId: string | null;
  labels: Record<string, string>;
}

export interface HelperExit {
  exitCode: number;
  oomKilled: boolean;
  /** Killed at its time limit. */
  timedOut: boolean;
  /** The end of what it printed (stdout and stderr, at most a few KiB): for error messages. */
  logTail: string;
}

export type ImageStatus = 'present' | 'missing';

export interface ContainerExit {
  exitCode: number;
  oomKilled: boolean;
}

export interface SessionContainer {
  containerId: string;
  sessionId: string;
  attempt: number;
  runnerId: string | null;
  running: boolean;
  /** Docker's state: `created` (never started), `running`, `exited`, … */
  state: string;
}

export interface ContainerEngine {
  /** Whether the image is on the engine. Never pulls. */
  imageStatus(image: string): Promise<ImageStatus>;
  /**
   * Creates the session's container (hardened, read-only root filesystem, a writable HOME; name
   * derived from session id and attempt; labels hub.session, hub.attempt, hub.runner, and the
   * engine's hub.installation). If a container of that name already exists, returns its id.
   */
  create(launch: ContainerLaunch): Promise<string>;
  start(containerId: string): Promise<void>;
  /** Resolves when the container has stopped. */
  wait(containerId: string): Promise<ContainerExit>;
  /** SIGTERM, then SIGKILL after graceSeconds. No error if it already stopped. */
  stop(containerId: string, graceSeconds: number): Promise<void>;
  /** stdout and stderr as the container wrote them (only the last `lastLines` lines when given). */
  readLog(containerId: string, lastLines?: number): Promise<Buffer>;
  /**
   * The container's stdout and stderr from its start, until it stops, as the engine sends them: for
   * Docker, multiplexed frames (see logs/docker-log-demultiplexer.ts). Call it before start() to get
   * every byte: the container may then wait for the reader, so read without pause. On a container
   * already started (adopted after a runner restart) it is the engine's capped log file from its start.
   */
  followLog(containerId: string): Promise<NodeJS.ReadableStream>;
  /** Removes the container (forced). No error if it is already gone. */
  remove(containerId: string): Promise<void>;
  /** Every session's container (labelled hub.session, not hub.helper) on this engine. */
  listSessionContainers(): Promise<SessionContainer[]>;
  /** This runner's helper containers (labelled hub.helper), with when each was created. */
  listHelperContainers(runnerId: string): Promise<HelperContainer[]>;
  /** Runs a helper container (see HelperLaunch) to its end or its time limit, and removes it. */
  runHelper(launch: HelperLaunch): Promise<HelperExit>;
  /** Creates and starts a helper that runs beside a session (see SessionHelperLaunch); `remove` ends it. */
  startHelper(launch: SessionHelperLaunch): Promise<string>;
  /** Whether the engine has a network of that name (never creates one). */
  networkExists(name: string): Promise<boolean>;
  /** Throws with an explanation when the engine cannot be reached or used. */
  ping(): Promise<void>;
}
