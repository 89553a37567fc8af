import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chown, type FileHandle, lstat, mkdir, open, rename, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerEngine, ContainerLimits } from '../ports/container-engine.port';
import { removeTree } from '../workspace/remove-tree';
import { CAPTURE_EXIT_REASONS, CAPTURE_OUT_DIR, CAPTURE_SCRIPT, CAPTURE_WORKSPACE_DIR } from './capture-script';
import {
  type ChangedFile,
  COMMIT_ID,
  parseBundleHeader,
  parseHead,
  parseNumstat,
  parseShortstat,
} from './capture-results';

export interface CaptureRequest {
  /** The session's workspace on the host (mounted read-write at /workspace in the helper). */
  workspaceDir: string;
  /** The commit the workspace was prepared at (prepareWorkspace / mergeChanges). */
  baseCommit: string;
  sessionId: string;
  /** The session's name, in the commit of what was left uncommitted. */
  sessionLabel: string;
  /** The agent's uid and gid: the helper runs as them. */
  uid: number;
  gid: number;
  /** A host directory of the runner's (not the agent's): changes.bundle and changes.diff end up here. */
  outDir: string;
  /** An image with git and a POSIX sh (hub/test-agent has both). */
  image: string;
  /** The helper's memory, CPU and PID limits (a session's). */
  limits: ContainerLimits;
  runnerId: string;
  /** Default 2 minutes. */
  timeoutMs?: number;
  /** The largest file the helper may write, so the largest bundle; default 1 GiB. */
  maxBundleBytes?: number;
  /** The diff kept; default 4 MiB. */
  diffCapBytes?: number;
  /** Files listed in the result (all are counted); default 1,000. */
  maxFilesListed?: number;
}

export interface CapturedChanges {
  baseCommit: string;
  /** HEAD once what was left uncommitted is committed; the base itself when nothing changed. */
  headCommit: string;
  /** The first maxFilesListed changed files, in git's order. */
  files: ChangedFile[];
  /** Every changed file, and the lines added and removed in all. */
  fileCount: number;
  added: number;
  removed: number;
  /** A git bundle of base..head (opaque bytes), or null when head has no commit the base lacks. */
  bundleFile: string | null;
  bundleBytes: number;
  /** The unified diff base..head, cut at diffCapBytes. */
  diffFile: string;
  diffBytes: number;
  /** Whether the diff was cut. */
  truncated: boolean;
}

/** The capture could not be made: the reason says why, without host paths. */
export class CaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureError';
  }
}

const DEFAULT_TIMEOUT_MS = 2 * 60_000;
const DEFAULT_MAX_BUNDLE_BYTES = 1024 * 1024 * 1024;
const DEFAULT_DIFF_CAP_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_FILES_LISTED = 1_000;
/** numstat kept: about 20,000 files' records, which is plenty for the list (every file is counted by shortstat). */
const NUMSTAT_CAP_BYTES = 1024 * 1024;
const SMALL_FILE_BYTES = 4 * 1024;
const BUNDLE_HEADER_BYTES = 64 * 1024;

/**
 * Captures what a session changed in its workspace, without running git on the host: the agent's
 * .git (config, hooks, attributes, filters, fsmonitor) is hostile, so a short-lived helper container
 * (ContainerEngine.runHelper: no network, the agent's uid, limits and a time limit) runs a fixed
 * script (capture-script.ts) that commits whatever was left uncommitted and writes a bundle of
 * base..HEAD, the numstat, the shortstat and the diff (capped) to a directory of its own. The host
 * then only reads those files: never following a link, bounded in size, each parsed defensively; the
 * bundle and the diff are moved to `outDir`, the rest removed.
 */
export async function captureChanges(engine: Pick<ContainerEngine, 'runHelper'>, request: CaptureRequest): Promise<CapturedChanges> {
  if (!COMMIT_ID.test(request.baseCommit)) throw new CaptureError(`base commit "${request.baseCommit.slice(0, 80)}" is not a commit id`);
  const label = request.sessionLabel;
  const diffCap = request.diffCapBytes ?? DEFAULT_DIFF_CAP_BYTES;
  const maxBundleBytes = request.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const helperDir = join(request.outDir, `capture-${randomBytes(6).toString('hex')}`);
  await mkdir(helperDir, { mode: 0o700 });
  try {
    await chown(helperDir, request.uid, request.gid);
    const exit = await engine.runHelper({
      purpose: 'capture',
      image: request.image,
      command: ['/bin/sh', '-c', CAPTURE_SCRIPT],
      env: {
        HUB_BASE: request.baseCommit,
        HUB_AUTHOR_NAME: `hub session ${label}`,
        HUB_AUTHOR_EMAIL: `session-${request.sessionId}@hub.invalid`,
        HUB_COMMIT_MESSAGE: `Changes left uncommitted by session ${label}`,
        HUB_DIFF_CAP: String(diffCap),
        HUB_NUMSTAT_CAP: String(NUMSTAT_CAP_BYTES),
      },
      mounts: [
        { hostPath: request.workspaceDir, containerPath: CAPTURE_WORKSPACE_DIR, readOnly: false },
        { hostPath: helperDir, containerPath: CAPTURE_OUT_DIR, readOnly: false },
      ],
      user: `${request.uid}:${request.gid}`,
      limits: request.limits,
      fileSizeLimitBytes: maxBundleBytes,
      timeoutMs,
      runnerId: request.runnerId,
    });
    const failed = `capturing the changes of ${label} failed`;
    if (exit.timedOut) throw new CaptureError(`${failed}: it took longer than ${Math.round(timeoutMs / 1000)} s`);
    if (exit.oomKilled) throw new CaptureError(`${failed}: it ran out of memory`);
    if (exit.exitCode !== 0) {
      const reason = CAPTURE_EXIT_REASONS[exit.exitCode] ?? `exit code ${exit.exitCode}`;
      const said = lastLines(exit.logTail);
      throw new CaptureError(`${failed}: ${reason}${said ? ` (${said})` : ''}`);
    }

    const headCommit = parseHead((await readSmall(join(helperDir, 'head'), SMALL_FILE_BYTES, 'head'))?.toString('utf8') ?? '');
    if (!headCommit) throw new CaptureError(`${failed}: no head commit came back`);
    const totals = parseShortstat((await readSmall(join(helperDir, 'shortstat'), SMALL_FILE_BYTES, 'shortstat'))?.toString('utf8') ?? '');
    const numstat = parseNumstat(
      (await readSmall(join(helperDir, 'numstat'), NUMSTAT_CAP_BYTES, 'numstat')) ?? Buffer.alloc(0),
      request.maxFilesListed ?? DEFAULT_MAX_FILES_LISTED,
    );

    const diffFile = join(request.outDir, 'changes.diff');
    const diffSize = await moveRegularFile(join(helperDir, 'changes.diff'), diffFile, diffCap + 1, 'changes.diff');
    const truncated = diffSize > diffCap;
    if (truncated) await truncate(diffFile, diffCap);

    const bundle = await keepBundle(helperDir, request.outDir, headCommit, maxBundleBytes, failed);
    if (!bundle && headCommit !== request.baseCommit && totals?.files) {
      throw new CaptureError(`${failed}: the head ${headCommit} changes files, but no bundle of its commits came back`);
    }
    return {
      baseCommit: request.baseCommit,
      headCommit,
      files: numstat.files,
      fileCount: totals?.files ?? numstat.records,
      added: totals?.added ?? sum(numstat.files, 'added'),
      removed: totals?.removed ?? sum(numstat.files, 'removed'),
      bundleFile: bundle?.file ?? null,
      bundleBytes: bundle?.bytes ?? 0,
      diffFile,
      diffBytes: Math.min(diffSize, diffCap),
      truncated,
    };
  } finally {
    await removeTree(helperDir).catch(() => undefined);
  }
}

/** The bundle, if the helper made one: a regular file whose header names HEAD at the head commit. */
async function keepBundle(
  helperDir: string,
  outDir: string,
  headCommit: string,
  maxBytes: number,
  failed: string,
): Promise<{ file: string; bytes: number } | null> {
  const made = join(helperDir, 'changes.bundle');
  const start = await readSmall(made, BUNDLE_HEADER_BYTES, 'changes.bundle');
  if (!start) return null;
  const header = parseBundleHeader(start);
  if (!header?.refs.some((ref) => ref.name === 'HEAD' && ref.commit === headCommit)) {
    throw new CaptureError(`${failed}: the bundle does not end at the head commit ${headCommit}`);
  }
  const file = join(outDir, 'changes.bundle');
  const bytes = await moveRegularFile(made, file, maxBytes, 'changes.bundle');
  return { file, bytes };
}

/**
 * The first `maxBytes` of a file the helper wrote, or null when it is not there. Opened without
 * following a link and without blocking (a FIFO), and only if it is a regular file.
 */
async function readSmall(path: string, maxBytes: number, name: string): Promise<Buffer | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CaptureError(`the capture's ${name} could not be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new CaptureError(`the capture's ${name} is not a regular file`);
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Moves a regular file (never a link) of at most maxBytes into the runner's directory; its size. */
async function moveRegularFile(from: string, to: string, maxBytes: number, name: string): Promise<number> {
  const info = await lstat(from).catch(() => null);
  if (!info) return moveMissing(to);
  if (!info.isFile()) throw new CaptureError(`the capture's ${name} is not a regular file`);
  if (info.size > maxBytes) throw new CaptureError(`the capture's ${name} is larger than ${maxBytes} bytes`);
  await rename(from, to);
  return info.size;
}

/** A diff the helper did not write (nothing changed, say) is an empty one. */
async function moveMissing(to: string): Promise<number> {
  const handle = await open(to, 'w', 0o600);
  await handle.close();
  return 0;
}

function lastLines(log: string): string {
  return log
    .split('\n')
    .map((line) => line.replace(/[\x00-\x1f\x7f]/g, ' ').trim())
    .filter(Boolean)
    .slice(-2)
    .join(' / ')
    .slice(-500);
}

const sum = (files: readonly ChangedFile[], key: 'added' | 'removed') => files.reduce((total, file) => total + (file[key] ?? 0), 0);
