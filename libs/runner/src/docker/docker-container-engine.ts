import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { parseImageReference } from '@hub/contracts';
import {
  CONTAINER_INPUTS_DIR,
  CONTAINER_CONTEXT_FILE,
  CONTAINER_OUTPUT_DIR,
  CONTAINER_PROMPT_FILE,
  CONTAINER_TMP_DIR,
  CONTAINER_WORKSPACE_DIR,
  type ContainerEngine,
  type ContainerExit,
  type ContainerInput,
  type ContainerLaunch,
  type ContainerLimits,
  type HelperContainer,
  type HelperExit,
  type HelperLaunch,
  type HelperMount,
  type ImageStatus,
  type SessionContainer,
  type SessionHelperLaunch,
} from '../ports/container-engine.port';
import type { ContainerTimes, InstallationContainers, InstalledContainer } from '../ports/installation-containers.port';
import { describeDockerEndpoint } from './docker-client';

export const LABEL_SESSION = 'hub.session';
export const LABEL_ATTEMPT = 'hub.attempt';
export const LABEL_RUNNER = 'hub.runner';
/** On helper containers (ContainerEngine.runHelper), never with hub.session: what the helper is for. */
export const LABEL_HELPER = 'hub.helper';
/** On every container a runner creates: the Hub deployment it belongs to (DockerEngineOptions.installationId). */
export const LABEL_INSTALLATION = 'hub.installation';

const PING_TIMEOUT_MS = 5_000;
const HELPER_LOG_TAIL_LINES = 50;
const NON_ROOT_USER = /^[1-9]\d*:\d+$/;
const INPUT_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]+$/;
const HELPER_PURPOSE = /^[a-z0-9][a-z0-9-]{0,39}$/;
const HELPER_LOG_TAIL_BYTES = 4 * 1024;
const HELPER_TMP_BYTES = 64 * 1024 * 1024;
/** Where a session's container may write when it starts (its root filesystem is read-only): HOME may be one of them. */
const WRITABLE_HOMES = [CONTAINER_TMP_DIR, CONTAINER_WORKSPACE_DIR, CONTAINER_OUTPUT_DIR];

export function sessionContainerName(sessionId: string, attempt: number): string {
  return `hub-session-${sessionId}-a${attempt}`;
}

export interface DockerEngineOptions {
  /**
   * The Hub deployment this runner belongs to: every container it creates (sessions' and helpers')
   * is labelled `hub.installation=<id>`, which the janitor looks for. None: no such label.
   */
  installationId?: string;
}

/** ContainerEngine on a Docker engine (through dockerode). Never pulls images. */
export class DockerContainerEngine implements ContainerEngine, InstallationContainers {
  constructor(
    private readonly docker: Docker,
    private readonly options: DockerEngineOptions = {},
  ) {}

  async imageStatus(image: string): Promise<ImageStatus> {
    // The reference becomes part of the URL path (/images/<ref>/json): one Docker's grammar refuses
    // (`hub/../busybox`, `hub//x`) would be another path, answered with a redirect that dockerode
    // follows into an uncaught error. Only a parsed reference reaches the engine.
    const parsed = parseImageReference(image);
    if (!parsed.ok) throw new Error(`Docker: image ${parsed.message}`);
    try {
      await this.docker.getImage(parsed.reference.familiar).inspect();
      return 'present';
    } catch (error) {
      if (statusOf(error) === 404) return 'missing';
      throw dockerError(`inspecting image ${image}`, error);
    }
  }

  async create(launch: ContainerLaunch): Promise<string> {
    const name = sessionContainerName(launch.sessionId, launch.attempt);
    const options = this.labelled(containerOptions(name, launch, await this.imageHome(launch.image, name)));
    try {
      const container = await this.docker.createContainer(options);
      return container.id;
    } catch (error) {
      if (statusOf(error) !== 409) throw dockerError(`creating container ${name} from image ${launch.image}`, error);
    }
    return this.existingContainerId(name, launch);
  }

  async start(containerId: string): Promise<void> {
    // 304: already started.
    await dockerCall(`starting container ${containerId}`, () => this.docker.getContainer(containerId).start(), [304]);
  }

  async wait(containerId: string): Promise<ContainerExit> {
    const container = this.docker.getContainer(containerId);
    await dockerCall(`waiting for container ${containerId}`, () => container.wait());
    // The exit code from /wait lacks the OOM flag; inspect has both.
    const info = await dockerCall(`inspecting container ${containerId}`, () => container.inspect());
    return { exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled };
  }

  async stop(containerId: string, graceSeconds: number): Promise<void> {
    // 304: not running; 404: already gone.
    await dockerCall(
      `stopping container ${containerId}`,
      () => this.docker.getContainer(containerId).stop({ t: graceSeconds }),
      [304, 404],
    );
  }

  async readLog(containerId: string, lastLines?: number): Promise<Buffer> {
    const raw: unknown = await dockerCall(`reading the log of container ${containerId}`, () =>
      this.docker.getContainer(containerId).logs({ stdout: true, stderr: true, follow: false, ...(lastLines ? { tail: lastLines } : {}) }),
    );
    if (!Buffer.isBuffer(raw)) throw new Error(`Docker: the log of container ${containerId} did not come back as bytes`);
    return demultiplexLog(raw);
  }

  /**
   * Before start: attaches to the container's stdout and stderr, so every byte comes, in order, and
   * the stream ends once the container has stopped. Docker then waits for the reader (a reader that
   * stops reading stops the container's writes), so read it without pause. Once started (a runner
   * adopting a container after its restart): Docker's log file from its start (since 0, following);
   * that file is capped, so the start of a long log is gone, and Docker's follow may end before the
   * last bytes written (measured: the last, unterminated line of a 50 MB log was missing).
   */
  async followLog(containerId: string): Promise<NodeJS.ReadableStream> {
    const container = this.docker.getContainer(containerId);
    const info = await dockerCall(`inspecting container ${containerId}`, () => container.inspect());
    if (info.State.Status === 'created') {
      return dockerCall(`attaching to container ${containerId}`, () =>
        container.attach({ stream: true, stdout: true, stderr: true, logs: false }),
      );
    }
    return dockerCall(`following the log of container ${containerId}`, () =>
      container.logs({ stdout: true, stderr: true, follow: true, since: 0 }),
    );
  }

  async remove(containerId: string): Promise<void> {
    try {
      // v: anonymous volumes an image may declare would otherwise outlive every session.
      await this.docker.getContainer(containerId).remove({ force: true, v: true });
    } catch (error) {
      if (statusOf(error) === 404 || isRemovalInProgress(error)) return;
      throw dockerError(`removing container ${containerId}`, error);
    }
  }

  async listHelperContainers(runnerId: string): Promise<HelperContainer[]> {
    const containers = await dockerCall('listing helper containers', () =>
      this.docker.listContainers({ all: true, filters: { label: [LABEL_HELPER, `${LABEL_RUNNER}=${runnerId}`] } }),
    );
    return containers.map((c) => ({
      containerId: c.Id,
      createdAt: new Date(c.Created * 1000),
      purpose: c.Labels?.[LABEL_HELPER] ?? '',
      sessionId: c.Labels?.[LABEL_SESSION] || null,
      labels: c.Labels ?? {},
    }));
  }

  async listSessionContainers(): Promise<SessionContainer[]> {
    const containers = await dockerCall('listing session containers', () =>
      this.docker.listContainers({ all: true, filters: { label: [LABEL_SESSION] } }),
    );
    // A session's helpers (its egress bridge) carry its label too; they are not its container.
    return containers.filter((c) => !c.Labels?.[LABEL_HELPER]).map(toSessionContainer);
  }

  async listInstallationContainers(installationId: string): Promise<InstalledContainer[]> {
    const containers = await dockerCall(`listing the containers of installation ${installationId}`, () =>
      this.docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTALLATION}=${installationId}`] } }),
    );
    return containers.map((c) => ({
      containerId: c.Id,
      runnerId: c.Labels?.[LABEL_RUNNER] || null,
      sessionId: c.Labels?.[LABEL_SESSION] || null,
      helper: c.Labels?.[LABEL_HELPER] || null,
      state: c.State,
      createdAt: new Date(c.Created * 1000),
    }));
  }

  async containerTimes(containerId: string): Promise<ContainerTimes | null> {
    try {
      const info = await this.docker.getContainer(containerId).inspect();
      return { startedAt: dockerTime(info.State.StartedAt), finishedAt: dockerTime(info.State.FinishedAt) };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw dockerError(`inspecting container ${containerId}`, error);
    }
  }

  async startHelper(launch: SessionHelperLaunch): Promise<string> {
    const options = this.labelled(sessionHelperOptions(launch));
    const container = await dockerCall(`creating helper container ${options.name} from image ${launch.image}`, () =>
      this.docker.createContainer(options),
    );
    try {
      await dockerCall(`starting helper container ${options.name}`, () => container.start());
    } catch (error) {
      await this.remove(container.id).catch(() => undefined);
      throw error;
    }
    return container.id;
  }

  async networkExists(name: string): Promise<boolean> {
    try {
      await this.docker.getNetwork(name).inspect();
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw dockerError(`inspecting network ${name}`, error);
    }
  }

  /**
   * Creates, starts and waits for a helper container, killed at its time limit; its exit code, OOM
   * flag and the end of its log are read, and it is removed whatever happened.
   */
  async runHelper(launch: HelperLaunch): Promise<HelperExit> {
    const options = this.labelled(helperContainerOptions(launch));
    const name = options.name ?? launch.purpose;
    const container = await dockerCall(`creating helper container ${name} from image ${launch.image}`, () =>
      this.docker.createContainer(options),
    );
    try {
      await dockerCall(`starting helper container ${name}`, () => container.start());
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        void this.stop(container.id, 0).catch(() => undefined);
      }, launch.timeoutMs);
      try {
        await dockerCall(`waiting for helper container ${name}`, () => container.wait());
      } finally {
        clearTimeout(timer);
      }
      const info = await dockerCall(`inspecting helper container ${name}`, () => container.inspect());
      // Only the end: git's output in a workspace the agent shaped can be long.
      const log = await this.readLog(container.id, HELPER_LOG_TAIL_LINES).catch(() => Buffer.alloc(0));
      const tail = log.subarray(Math.max(0, log.length - HELPER_LOG_TAIL_BYTES)).toString('utf8');
      return { exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled, timedOut, logTail: tail };
    } finally {
      await this.remove(container.id).catch(() => undefined);
    }
  }

  async ping(): Promise<void> {
    const where = describeDockerEndpoint(this.docker);
    try {
      await withTimeout(this.docker.ping(), PING_TIMEOUT_MS);
    } catch (error) {
      throw new Error(`Docker engine not reachable at ${where}: ${unreachableReason(error)}`, { cause: error });
    }
  }

  /** A container's options with this engine's installation label (when it has one). */
  private labelled(options: Docker.ContainerCreateOptions): Docker.ContainerCreateOptions {
    const { installationId } = this.options;
    return installationId ? { ...options, Labels: { ...options.Labels, [LABEL_INSTALLATION]: installationId } } : options;
  }

  /** The HOME an image sets (ENV HOME), or null when it sets none (Docker would take it from /etc/passwd). */
  private async imageHome(image: string, containerName: string): Promise<string | null> {
    const parsed = parseImageReference(image);
    if (!parsed.ok) throw new Error(`Docker: image ${parsed.message}`);
    const info = await dockerCall(`creating container ${containerName} from image ${image}`, () =>
      this.docker.getImage(parsed.reference.familiar).inspect(),
    );
    const home = (info.Config?.Env ?? []).filter((entry) => entry.startsWith('HOME=')).at(-1);
    return home === undefined ? null : home.slice('HOME='.length);
  }

  /** After a 409 on create: the container of that name, provided it is this launch's. */
  private async existingContainerId(name: string, launch: ContainerLaunch): Promise<string> {
    const info = await dockerCall(`inspecting existing container ${name}`, () => this.docker.getContainer(name).inspect());
    const labels = info.Config.Labels ?? {};
    if (labels[LABEL_SESSION] !== launch.sessionId || labels[LABEL_ATTEMPT] !== String(launch.attempt)) {
      throw new Error(
        `Docker: a container named ${name} (${info.Id}) exists but is not labelled as session ${launch.sessionId} attempt ${launch.attempt}`,
      );
    }
    return info.Id;
  }
}

/**
 * A session's container: `imageHome` is the HOME its image sets (null: none), replaced by /tmp when
 * the agent could not write there (see writableHome).
 */
export function containerOptions(name: string, launch: ContainerLaunch, imageHome: string | null = null): Docker.ContainerCreateOptions {
  assertNonRootUser(launch.user);
  return {
    name,
    Image: launch.image,
    User: launch.user,
    Env: environment(writableHome(launch.env, imageHome)),
    Labels: {
      [LABEL_SESSION]: launch.sessionId,
      [LABEL_ATTEMPT]: String(launch.attempt),
      [LABEL_RUNNER]: launch.runnerId,
    },
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    // Joining another container's network namespace (`container:<id>`) needs networking enabled.
    NetworkDisabled: launch.network === 'none',
    HostConfig: hardenedHostConfig(launch),
  };
}

/**
 * A helper's container (ContainerEngine.runHelper): isolated as a session's, no network at all, a
 * read-only root filesystem (only /tmp, a small tmpfs, and its mounts are writable), a small log.
 */
export function helperContainerOptions(launch: HelperLaunch): Docker.ContainerCreateOptions {
  assertNonRootUser(launch.user);
  if (!HELPER_PURPOSE.test(launch.purpose)) throw new Error(`helper purpose "${launch.purpose}" must be lowercase letters, digits and dashes`);
  if (!launch.command.length) throw new Error('a helper container needs a command');
  if (!(launch.timeoutMs > 0)) throw new Error(`helper time limit ${launch.timeoutMs} ms must be positive`);
  return {
    name: `hub-helper-${launch.purpose}-${randomBytes(4).toString('hex')}`,
    Image: launch.image,
    User: launch.user,
    Entrypoint: launch.command,
    Env: environment(launch.env),
    Labels: { [LABEL_HELPER]: launch.purpose, [LABEL_RUNNER]: launch.runnerId },
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    NetworkDisabled: true,
    HostConfig: {
      ...isolation(launch.limits, launch.fileSizeLimitBytes),
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,nosuid,nodev,mode=1777,size=${Math.min(launch.limits.memoryBytes, HELPER_TMP_BYTES)}` },
      Binds: launch.mounts.map(helperBind),
      LogConfig: { Type: 'json-file', Config: { 'max-size': String(MIN_DOCKER_LOG_FILE_BYTES), 'max-file': '1' } },
    },
  };
}

/** A session's helper (its egress bridge): a helper's container, labelled with the session and what it serves. */
export function sessionHelperOptions(launch: SessionHelperLaunch): Docker.ContainerCreateOptions {
  const options = helperContainerOptions({ ...launch, timeoutMs: 1 });
  const reserved = Object.keys(launch.labels).filter((key) => [LABEL_HELPER, LABEL_RUNNER, LABEL_SESSION, LABEL_ATTEMPT, LABEL_INSTALLATION].includes(key));
  if (reserved.length) throw new Error(`a helper's labels may not set ${reserved.join(', ')}`);
  return { ...options, Labels: { ...launch.labels, ...options.Labels, [LABEL_SESSION]: launch.sessionId } };
}

function helperBind(mount: HelperMount): string {
  const target = mount.containerPath;
  if (!target.startsWith('/') || target === '/' || /[:,]/.test(target)) {
    throw new Error(`helper mount point ${target} must be an absolute container path other than / without ':' or ','`);
  }
  return `${hostPath(mount.hostPath, `helper mount ${target}`)}:${target}:${mount.readOnly ? 'ro' : 'rw'}`;
}

/**
 * What every container Hub runs has: no privileges, its own IPC and init, the limits, the file-size cap.
 * Docker's default seccomp profile stays on: no `seccomp=` option is ever given (`seccomp=unconfined`
 * would let the agent call every system call the kernel has), nor an AppArmor override.
 */
function isolation(limits: ContainerLimits, fileSizeLimitBytes: number): Docker.HostConfig {
  const { memoryBytes, nanoCpus, pids } = limits;
  const fileSizeLimit = positiveBytes(fileSizeLimitBytes, 'fileSizeLimitBytes');
  return {
    Privileged: false,
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    PidsLimit: pids,
    Memory: memoryBytes,
    MemorySwap: memoryBytes,
    NanoCpus: nanoCpus,
    Init: true,
    AutoRemove: false,
    IpcMode: 'private',
    // No file the container writes can grow past this: the write fails and the writer gets SIGXFSZ
    // (a shell reports exit status 153).
    Ulimits: [{ Name: 'fsize', Soft: fileSizeLimit, Hard: fileSizeLimit }],
  };
}

/**
 * A session's container: its root filesystem read-only (the image's binaries and /etc cannot be
 * replaced, and nothing is written to the engine's disk outside the mounts), so the agent writes only
 * to /workspace and /hub/output (bind mounts of the attempt's directories, under the disk quota) and
 * /tmp, a tmpfs of HUB_CONTAINER_TMPFS_MB whose pages count against the memory limit. /tmp is `exec`
 * (Docker's tmpfs default is noexec): agents build and run tools there (a test's compiled binary, a
 * downloaded CLI, a script), and noexec would protect nothing, since /workspace, which the agent
 * writes too, is executable.
 */
function hardenedHostConfig(launch: ContainerLaunch): Docker.HostConfig {
  const tmpBytes = positiveBytes(launch.tmpBytes, 'tmpBytes');
  return {
    ...isolation(launch.limits, launch.fileSizeLimitBytes),
    NetworkMode: launch.network,
    ReadonlyRootfs: true,
    Tmpfs: { [CONTAINER_TMP_DIR]: `rw,exec,nosuid,nodev,mode=1777,size=${tmpBytes}` },
    Binds: binds(launch),
    LogConfig: logConfig(launch),
  };
}

/**
 * A session's environment with a HOME the agent can write (git, npm, pip and Claude Code keep their
 * settings and caches there): the image's HOME when it is /tmp, /workspace or /hub/output, else /tmp
 * (an image's /home/agent or /root is on the read-only root filesystem; a directory under /tmp would
 * not exist, the tmpfs starts empty). A HOME the runner's settings give (HUB_IMAGE_ENV) is kept.
 */
export function writableHome(env: Record<string, string>, imageHome: string | null): Record<string, string> {
  if (env['HOME'] !== undefined) return env;
  const home = imageHome?.replace(/(?<=.)\/+$/, '');
  if (home && WRITABLE_HOMES.includes(home)) return env;
  return { ...env, HOME: CONTAINER_TMP_DIR };
}

const MIN_DOCKER_LOG_FILE_BYTES = 1024 * 1024;

/**
 * Docker's own copy of the log, capped: two files of at most max(logCapBytes, 1 MiB) each, rotated.
 * Hub's capture follows the log stream from the container's start and keeps what it keeps itself,
 * so Docker's file is only a buffer: for the moments before the capture attaches, and for re-reading
 * after a runner restart (the start of a long log is then gone, which the capture never needs).
 */
function logConfig(launch: ContainerLaunch): Docker.HostConfig['LogConfig'] {
  const fileBytes = Math.max(positiveBytes(launch.logCapBytes, 'logCapBytes'), MIN_DOCKER_LOG_FILE_BYTES);
  return { Type: 'json-file', Config: { 'max-size': String(fileBytes), 'max-file': '2' } };
}

function positiveBytes(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`ContainerLaunch.${field} must be a positive whole number of bytes, not ${value}`);
  }
  return value;
}

function binds(launch: ContainerLaunch): string[] {
  const output = `${hostPath(launch.outputDir, 'output directory')}:${CONTAINER_OUTPUT_DIR}:rw`;
  const prompt = `${hostPath(launch.promptFile, 'prompt file')}:${CONTAINER_PROMPT_FILE}:ro`;
  const workspace = `${hostPath(launch.workspaceDir, 'workspace')}:${CONTAINER_WORKSPACE_DIR}:rw`;
  const context = launch.contextFile ? [`${hostPath(launch.contextFile, 'context file')}:${CONTAINER_CONTEXT_FILE}:ro`] : [];
  return [output, prompt, ...context, workspace, ...launch.inputs.map(inputBind)];
}

function inputBind(input: ContainerInput): string {
  if (!INPUT_NAME.test(input.name)) {
    throw new Error(`input name "${input.name}" is not a plain directory name (letters, digits, . _ -)`);
  }
  return `${hostPath(input.hostPath, `input ${input.name}`)}:${CONTAINER_INPUTS_DIR}/${input.name}:ro`;
}

/** Bind specs are colon-separated, and relative sources would be taken as volume names. */
function hostPath(path: string, what: string): string {
  if (!path.startsWith('/') || /[:,]/.test(path)) {
    throw new Error(`${what} ${path} must be an absolute host path without ':' or ','`);
  }
  return path;
}

function environment(env: Record<string, string>): string[] {
  return Object.entries(env).map(([key, value]) => {
    if (!key || key.includes('=')) throw new Error(`environment variable name "${key}" is invalid`);
    return `${key}=${value}`;
  });
}

function assertNonRootUser(user: string): void {
  if (!NON_ROOT_USER.test(user)) {
    throw new Error(`container user "${user}" must be uid:gid of a non-root user, e.g. 1000:1000`);
  }
}

/** A time Docker reports; its zero time (`0001-01-01T00:00:00Z`: never) is null. */
function dockerTime(value: string | undefined): Date | null {
  if (!value) return null;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) || time.getUTCFullYear() < 1970 ? null : time;
}

function toSessionContainer(info: Docker.ContainerInfo): SessionContainer {
  const labels = info.Labels ?? {};
  return {
    containerId: info.Id,
    sessionId: labels[LABEL_SESSION],
    attempt: Number.parseInt(labels[LABEL_ATTEMPT] ?? '', 10) || 0,
    runnerId: labels[LABEL_RUNNER] || null,
    running: info.State === 'running',
    state: info.State,
  };
}

/**
 * Docker's non-TTY log stream is framed: 8-byte header (stream byte, 3 zero bytes, big-endian
 * length) then the payload. Joins the payloads in order. A stream that is not framed (a TTY
 * container's) is returned as it is.
 */
export function demultiplexLog(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < raw.length) {
    if (!isFrameHeader(raw, offset)) return offset === 0 ? raw : Buffer.concat([...parts, raw.subarray(offset)]);
    const start = offset + 8;
    const end = Math.min(start + raw.readUInt32BE(offset + 4), raw.length);
    parts.push(raw.subarray(start, end));
    offset = end;
  }
  return Buffer.concat(parts);
}

function isFrameHeader(raw: Buffer, offset: number): boolean {
  return offset + 8 <= raw.length && raw[offset] <= 2 && raw[offset + 1] === 0 && raw[offset + 2] === 0 && raw[offset + 3] === 0;
}

/** Runs a Docker call; the listed HTTP statuses count as success, anything else becomes a described Error. */
async function dockerCall<T>(action: string, run: () => Promise<T>, okStatuses: number[] = []): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (okStatuses.includes(statusOf(error) ?? -1)) return undefined as T;
    throw dockerError(action, error);
  }
}

interface DockerodeError {
  statusCode?: number;
  code?: string;
  json?: { message?: unknown } | null;
  message?: string;
}

function statusOf(error: unknown): number | undefined {
  return (error as DockerodeError | undefined)?.statusCode;
}

function isRemovalInProgress(error: unknown): boolean {
  return statusOf(error) === 409 && /already in progress/i.test(detailOf(error));
}

function detailOf(error: unknown): string {
  const { json, message } = (error ?? {}) as DockerodeError;
  if (typeof json?.message === 'string') return json.message;
  return (message ?? String(error)).trim();
}

function dockerError(action: string, error: unknown): Error {
  const { statusCode, code } = (error ?? {}) as DockerodeError;
  const status = statusCode ? `HTTP ${statusCode}: ` : code ? `${code}: ` : '';
  return new Error(`Docker: ${action} failed: ${status}${detailOf(error)}`, { cause: error });
}

function unreachableReason(error: unknown): string {
  const { code, statusCode } = (error ?? {}) as DockerodeError;
  switch (code) {
    case 'ENOENT':
      return 'the socket does not exist: the Docker engine (dockerd) is not running or not installed. Start dockerd, or set DOCKER_HOST to a running engine';
    case 'ECONNREFUSED':
      return 'connection refused: dockerd is not running (or the socket is stale). Start dockerd, or set DOCKER_HOST to a running engine';
    case 'EACCES':
      return 'permission denied on the socket. Run as root or as a member of the "docker" group';
    case 'ETIMEDOUT':
      return `no answer within ${PING_TIMEOUT_MS} ms: dockerd is hung or overloaded. Check dockerd's log and restart it`;
  }
  const status = statusCode ? `/_ping answered HTTP ${statusCode}: ` : '';
  return `${status}${detailOf(error)}. Check that dockerd is running and DOCKER_HOST points at it`;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
