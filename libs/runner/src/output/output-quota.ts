import { spawn } from 'node:child_process';

/** How often the directories are measured. */
const DEFAULT_INTERVAL_MS = 1_000;
/** A measurement taking longer than this (a tree of millions of entries) is cut off, and fails. */
const MEASURE_TIMEOUT_MS = 30_000;
/** du prints a line per directory given and a total: never more than this is read of its output. */
const MAX_DU_OUTPUT_BYTES = 64 * 1024;

export interface DiskQuotaOptions {
  /** Host directories measured together (a session's output directory; later its workspace). */
  dirs: string[];
  /** More than this many bytes on disk in all is over the quota. */
  quotaBytes: number;
  /** Called once, with the bytes measured, the first time they are over the quota. */
  onExceeded(usedBytes: number): void;
  /** Between the end of one measurement and the start of the next. Default 1 s. */
  intervalMs?: number;
  /** A measurement that failed (the next one is still made). Default: ignored. */
  onError?(error: Error): void;
}

export interface DiskQuotaWatch {
  /** Stops measuring (a measurement under way is killed). */
  stop(): void;
  /** Measures now (also after stop()): the bytes the directories take on disk. */
  measure(): Promise<number>;
  /** The last bytes measured by the watch (null before its first measurement). */
  readonly lastUsedBytes: number | null;
}

/**
 * Watches the disk space a session's directories take on the runner's host, measuring every
 * second with `du` (one child process, at most one at a time, each cut off after 30 s: the cost of
 * a poll is bounded whatever the agent made), and calls `onExceeded` once when they are over the quota.
 * Between two polls a single file cannot outgrow the quota: the container's fsize ulimit
 * (ContainerLaunch.fileSizeLimitBytes) stops it; many files can, by at most what is written in a second.
 */
export function watchDiskQuota(options: DiskQuotaOptions): DiskQuotaWatch {
  const interval = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  let stopped = false;
  let exceeded = false;
  let timer: NodeJS.Timeout | undefined;
  let lastUsedBytes: number | null = null;
  const polling = new AbortController();

  const poll = async (): Promise<void> => {
    try {
      const used = await diskUsage(options.dirs, polling.signal);
      lastUsedBytes = used;
      if (!stopped && !exceeded && used > options.quotaBytes) {
        exceeded = true;
        options.onExceeded(used);
      }
    } catch (error) {
      if (!stopped) options.onError?.(error as Error);
    }
    if (!stopped && !exceeded) timer = setTimeout(() => void poll(), interval);
  };
  timer = setTimeout(() => void poll(), 0);

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      polling.abort();
    },
    measure: () => diskUsage(options.dirs),
    get lastUsedBytes() {
      return lastUsedBytes;
    },
  };
}

/**
 * The bytes the directories take on disk together (blocks allocated, as `du -s -B1 -c`: a sparse
 * file counts what it occupies, a directory of empty files its blocks), staying on their file
 * systems, never following a link. An unreadable entry is left out (du still totals the rest).
 */
export function diskUsage(dirs: string[], signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    if (!dirs.length) return resolve(0);
    const du = spawn('du', ['-s', '-x', '-P', '-B1', '-c', '--', ...dirs], { stdio: ['ignore', 'pipe', 'ignore'], signal });
    const chunks: Buffer[] = [];
    let bytes = 0;
    const timeout = setTimeout(() => du.kill('SIGKILL'), MEASURE_TIMEOUT_MS);
    du.stdout.on('data', (chunk: Buffer) => {
      if (bytes < MAX_DU_OUTPUT_BYTES) chunks.push(chunk);
      bytes += chunk.length;
    });
    du.on('error', (error) => {
      clearTimeout(timeout);
      reject(new Error(`measuring the session's disk use failed: ${error.message}`));
    });
    du.on('close', (code, signalName) => {
      clearTimeout(timeout);
      // du exits 1 when an entry vanished or could not be read while it ran, and still totals the rest.
      const total = /^(\d+)\ttotal$/m.exec(Buffer.concat(chunks).toString('utf8'));
      if (total && !signalName) return resolve(Number(total[1]));
      const why = signalName === 'SIGKILL' ? `it took over ${MEASURE_TIMEOUT_MS / 1000} s` : `du ended with ${signalName ?? `code ${code}`}`;
      reject(new Error(`measuring the session's disk use failed: ${why}`));
    });
  });
}
