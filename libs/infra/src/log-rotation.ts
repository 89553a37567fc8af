import { closeSync, existsSync, ftruncateSync, openSync, readSync, renameSync, statSync, truncateSync, unlinkSync, writeSync } from 'node:fs';

/**
 * How far a log file may grow, and how many files of it are kept: the file itself and its rotated
 * copies `<file>.1` (the newest) … `<file>.<files - 1>`, so a log takes at most about
 * `files × maxBytes` of disk. `npm run hub` reads it from HUB_LOG_MAX_MB and HUB_LOG_FILES.
 */
export interface LogRotationPolicy {
  maxBytes: number;
  /** Files kept in all, the live one included (1: none rotated, the file is emptied). */
  files: number;
}

export const DEFAULT_LOG_ROTATION: LogRotationPolicy = { maxBytes: 50 * 1024 * 1024, files: 5 };
/** How often the stack looks at its logs' sizes. */
export const LOG_ROTATION_CHECK_MS = 10_000;

const COPY_CHUNK_BYTES = 1024 * 1024;
/** The longest unfinished last line a copy-and-truncate drops rather than keeps torn (see copyThenTruncate). */
const MAX_PARTIAL_LINE_BYTES = 64 * 1024;

/** The policy HUB_LOG_MAX_MB (whole MiB, ≥ 1) and HUB_LOG_FILES (1–100) give; a bad value throws, naming its variable. */
export function logRotationFromEnv(env: NodeJS.ProcessEnv = process.env): LogRotationPolicy {
  const read = (name: string, fallback: number, min: number, max: number) => {
    const text = env[name]?.trim();
    if (!text) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
    return value;
  };
  return {
    maxBytes: read('HUB_LOG_MAX_MB', DEFAULT_LOG_ROTATION.maxBytes / (1024 * 1024), 1, 1_048_576) * 1024 * 1024,
    files: read('HUB_LOG_FILES', DEFAULT_LOG_ROTATION.files, 1, 100),
  };
}

/** `<path>.<n>`: the n-th newest rotated copy (`<path>` itself for 0). */
export const rotatedLogFile = (path: string, n: number) => (n === 0 ? path : `${path}.${n}`);

/**
 * Rotates `path` when it is larger than `policy.maxBytes`; whether it did. The copies move up one
 * (`.1` → `.2`, …, the oldest beyond `policy.files - 1` deleted), then the file becomes `.1`:
 * - `'copy-truncate'` (the default), for a file processes are writing through a descriptor they
 *   inherited (opened with O_APPEND: a service's stdout): its content is copied to `.1` up to the end
 *   it has when the copy ends, then it is truncated to 0, and the writers go on writing at its
 *   (new) end. A line written in the instant between the copy's last read and the truncation (one
 *   system call) is lost, whole: a line that read caught half-written is cut from the copy too;
 * - `'rename'`, for a file nobody is writing (about to be opened for a new process): renamed, nothing lost.
 * Synchronous, so that two rotations of one file in one process never interleave (copying 50 MiB
 * takes some tens of milliseconds).
 */
export function rotateLogFile(path: string, policy: LogRotationPolicy, how: 'copy-truncate' | 'rename' = 'copy-truncate'): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return false;
  }
  if (size <= policy.maxBytes) return false;
  const kept = Math.max(0, policy.files - 1);
  for (let n = Math.max(kept, 1); n <= kept + 1; n++) removeIfPresent(rotatedLogFile(path, n));
  for (let n = kept - 1; n >= 1; n--) {
    if (existsSync(rotatedLogFile(path, n))) renameSync(rotatedLogFile(path, n), rotatedLogFile(path, n + 1));
  }
  if (kept === 0) truncateSync(path, 0);
  else if (how === 'rename') renameSync(path, rotatedLogFile(path, 1));
  else copyThenTruncate(path, rotatedLogFile(path, 1));
  return true;
}

/**
 * Keeps a set of log files within a policy: looks at each every `everyMs` (and at `checkNow()`),
 * rotating (copy-truncate) those past the size. A file that is not there is skipped; a rotation
 * that fails is reported to `onError` and tried again at the next look.
 */
export class LogRotation {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly paths: readonly string[],
    readonly policy: LogRotationPolicy,
    private readonly options: { everyMs?: number; onRotated?: (path: string) => void; onError?: (path: string, error: Error) => void } = {},
  ) {}

  /** Starts looking (the timer does not keep the process alive). */
  start(): this {
    this.timer ??= setInterval(() => this.checkNow(), this.options.everyMs ?? LOG_ROTATION_CHECK_MS);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at every file; the ones it rotated. */
  checkNow(): string[] {
    const rotated: string[] = [];
    for (const path of new Set(this.paths)) {
      try {
        if (rotateLogFile(path, this.policy)) {
          rotated.push(path);
          this.options.onRotated?.(path);
        }
      } catch (error) {
        this.options.onError?.(path, error as Error);
      }
    }
    return rotated;
  }
}

/**
 * Copies `from` to `to` (created 0600, replaced) up to `from`'s end as the copy reaches it, however
 * much was written meanwhile, and truncates `from` on the same descriptor right after the read that
 * found its end: the window in which a write is lost is one system call wide. A read may see a write
 * still under way (the kernel makes a write visible page by page, and reads take no lock), whose rest
 * the truncation then drops: a last line without its newline is cut from the copy (up to
 * MAX_PARTIAL_LINE_BYTES), so that line is lost whole rather than kept torn.
 */
function copyThenTruncate(from: string, to: string): void {
  const source = openSync(from, 'r+');
  let target: number | undefined;
  try {
    target = openSync(to, 'w', 0o600);
    const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
    let copied = 0;
    let wholeLines = 0;
    for (let read = readSync(source, buffer, 0, buffer.length, null); read > 0; read = readSync(source, buffer, 0, buffer.length, null)) {
      for (let written = 0; written < read; ) written += writeSync(target, buffer, written, read - written);
      const newline = buffer.lastIndexOf(0x0a, read - 1);
      if (newline >= 0) wholeLines = copied + newline + 1;
      copied += read;
    }
    ftruncateSync(source, 0);
    if (copied - wholeLines <= MAX_PARTIAL_LINE_BYTES) ftruncateSync(target, wholeLines);
  } finally {
    closeSync(source);
    if (target !== undefined) closeSync(target);
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
