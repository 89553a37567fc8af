import { createHash } from 'node:crypto';
import { constants, createReadStream, type Dirent } from 'node:fs';
import { lstat, open, opendir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { MAX_OUTPUT_PATH_BYTES, MAX_SKIPPED_NAMED, type OutputFile, type SkippedOutput } from '@hub/contracts';

export interface OutputLimits {
  maxFiles: number;
  /** Bytes kept in all (as the agent wrote them; masking may add a few). */
  maxTotalBytes: number;
  /** The longest output path kept, in UTF-8 bytes (relative to /hub/output). Default MAX_OUTPUT_PATH_BYTES (1024). */
  maxPathLength?: number;
  /** Entries (files, directories, links, …) looked at before the walk stops. Default max(10 × maxFiles, 10 000). */
  maxEntries?: number;
}

/**
 * Stores one output file: reads the stream that `content()` opens (masked) to its end. It may
 * call `content()` again to retry (each call reads the file from its start); the file's size and
 * sha256 are those of the last stream read to its end.
 */
export type StoreOutputFile = (path: string, content: () => Readable) => Promise<void>;

export interface CollectOutputOptions {
  limits: OutputLimits;
  /** A fresh masking stream for each file (`RunnerSecrets.maskingStream()`). */
  masker: () => Transform;
  store: StoreOutputFile;
}

export interface CollectedOutput {
  /** The files stored, in walk order; size and sha256 are of the stored (masked) content. */
  files: OutputFile[];
  /** Bytes stored in all. */
  bytes: number;
  /** The first MAX_SKIPPED_NAMED entries not kept, each with why; paths relative, cut to 200 characters. */
  skipped: SkippedOutput[];
  /** Every entry not kept (a directory not walked counts once). */
  skippedCount: number;
}

const SHOWN_PATH_CHARS = 200;

/** Why a file could not be read: its relative path and the error's code, never a host path. */
export class OutputReadError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
  ) {
    super(`output ${shown(path)} could not be read (${code})`);
  }
}

/**
 * Stores what the agent left in its output directory, streamed (masked, hashed) one file at a
 * time, so nothing is held whole whatever the sizes. Hostile trees are expected: a symbolic link is
 * never followed, nothing but regular files is read, a path longer than `maxPathLength` is neither
 * read nor walked into (so no host path the walk builds comes near the OS's limit), and the walk
 * stops after `maxEntries`. What is not kept is reported with why, by its relative path only: no
 * message this produces names the host directory. Entries are taken in name order (UTF-16 code units).
 * A failure of `store` (the object store) is thrown; a file that cannot be read is skipped.
 */
export async function collectOutput(dir: string, options: CollectOutputOptions): Promise<CollectedOutput> {
  const walk = new OutputWalk(dir, options);
  await walk.directory('');
  return walk.result();
}

class OutputWalk {
  private readonly files: OutputFile[] = [];
  private readonly skipped: SkippedOutput[] = [];
  private skippedCount = 0;
  private bytes = 0;
  private readonly maxPathLength: number;
  private readonly maxEntries: number;
  private entriesLeft: number;
  /** Set once maxEntries entries were looked at: nothing more is. */
  private stopped = false;

  constructor(
    private readonly root: string,
    private readonly options: CollectOutputOptions,
  ) {
    const { limits } = options;
    this.maxPathLength = limits.maxPathLength ?? MAX_OUTPUT_PATH_BYTES;
    this.maxEntries = limits.maxEntries ?? Math.max(10 * limits.maxFiles, 10_000);
    this.entriesLeft = this.maxEntries;
  }

  result(): CollectedOutput {
    return { files: this.files, bytes: this.bytes, skipped: this.skipped, skippedCount: this.skippedCount };
  }

  /** Walks `relDir` ('' for the root), whose path is within maxPathLength. */
  async directory(relDir: string): Promise<void> {
    const entries = await this.list(relDir);
    for (const entry of entries ?? []) {
      if (this.stopped) return;
      const path = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (this.entriesLeft <= 0) {
        // Named once, counted once: how many more there are is not known, and not looked for.
        this.stopped = true;
        return this.skip(path, `not looked at, nor anything after it: the output has more than ${this.maxEntries} entries`);
      }
      this.entriesLeft--;
      await this.entry(path, entry);
    }
  }

  private async entry(path: string, entry: Dirent): Promise<void> {
    if (entry.name.includes('\uFFFD')) return this.skip(path, 'name is not valid UTF-8');
    const kind = await this.kindOf(path, entry);
    if (kind === null) return;
    if (Buffer.byteLength(path) > this.maxPathLength) {
      const what = kind === 'directory' ? 'a directory whose path' : 'path';
      return this.skip(path, `${what} is longer than ${this.maxPathLength} bytes`);
    }
    if (kind === 'directory') return this.directory(path);
    if (kind === 'symlink') return this.skip(path, 'a symbolic link (not followed)');
    if (kind === 'other') return this.skip(path, 'not a regular file');
    return this.file(path);
  }

  /** The entry's type from the directory listing, or from lstat when the file system does not say. */
  private async kindOf(path: string, entry: Dirent): Promise<Kind | null> {
    if (entry.isFile()) return 'file';
    if (entry.isDirectory()) return 'directory';
    if (entry.isSymbolicLink()) return 'symlink';
    if (entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice()) return 'other';
    if (Buffer.byteLength(path) > this.maxPathLength) return 'other';
    try {
      const stats = await lstat(join(this.root, path));
      return stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : stats.isSymbolicLink() ? 'symlink' : 'other';
    } catch (error) {
      this.skip(path, `could not be read (${codeOf(error)})`);
      return null;
    }
  }

  /**
   * The entries of a directory in name order; at most one more than may still be looked at (that
   * one is named as where the walk stopped): an agent's directory of a million names is never listed
   * whole. Which entries of a directory larger than that are looked at is the file system's order.
   */
  private async list(relDir: string): Promise<Dirent[] | null> {
    const entries: Dirent[] = [];
    try {
      const handle = await opendir(relDir ? join(this.root, relDir) : this.root, { bufferSize: 64 });
      try {
        for (let entry = await handle.read(); entry && entries.length <= this.entriesLeft; entry = await handle.read()) {
          entries.push(entry);
        }
      } finally {
        await handle.close().catch(() => undefined);
      }
    } catch (error) {
      if (!relDir) throw new Error(`the output directory could not be read (${codeOf(error)})`);
      this.skip(relDir, `a directory that could not be read (${codeOf(error)})`);
      return null;
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async file(path: string): Promise<void> {
    const { maxFiles, maxTotalBytes } = this.options.limits;
    let size: number;
    try {
      const handle = await open(join(this.root, path), READ_FLAGS);
      try {
        const stats = await handle.stat();
        if (!stats.isFile()) return this.skip(path, 'not a regular file');
        size = stats.size;
      } finally {
        await handle.close().catch(() => undefined);
      }
    } catch (error) {
      return this.skip(path, codeOf(error) === 'ELOOP' ? 'a symbolic link (not followed)' : `could not be read (${codeOf(error)})`);
    }
    if (this.files.length >= maxFiles) return this.skip(path, `over the limit of ${maxFiles} files`);
    if (this.bytes + size > maxTotalBytes) return this.skip(path, `over the limit of ${maxTotalBytes} bytes in all`);
    const stored = await this.store(path, size);
    if (!stored) return;
    this.bytes += stored.size;
    this.files.push({ path, size: stored.size, sha256: stored.sha256 });
  }

  /** Streams the file (its first `size` bytes: it cannot grow into more) masked and hashed to the store. */
  private async store(path: string, size: number): Promise<{ size: number; sha256: string } | null> {
    let measured: { size: number; sha256: string } | null = null;
    const content = (): Readable => {
      // Node opens with numeric flags as fs.open does; its types for createReadStream say string only.
      const flags = READ_FLAGS as unknown as string;
      const source = size === 0 ? Readable.from([]) : createReadStream(join(this.root, path), { flags, start: 0, end: size - 1 });
      const meter = new Meter(path, (result) => (measured = result));
      // A read error reaches the store as an OutputReadError (see Meter._destroy), never with its own text.
      pipeline(source, this.options.masker(), meter, () => undefined);
      return meter;
    };
    try {
      await this.options.store(path, content);
    } catch (error) {
      if (error instanceof OutputReadError) {
        this.skip(path, `could not be read (${error.code})`);
        return null;
      }
      throw error;
    }
    if (!measured) throw new Error(`storing output ${shown(path)}: the store did not read it to its end`);
    return measured;
  }

  private skip(path: string, reason: string): void {
    this.skippedCount++;
    if (this.skipped.length < MAX_SKIPPED_NAMED) this.skipped.push({ path: shown(path), reason: reason.slice(0, 200) });
  }
}

type Kind = 'file' | 'directory' | 'symlink' | 'other';

/** O_NOFOLLOW: a link put in place since the listing is not followed; O_NONBLOCK: nor does a FIFO block. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Counts and hashes what passes through; reports both once the stream has ended. An error from
 * upstream (reading the file) comes out of it as an OutputReadError: its relative path and code.
 */
class Meter extends Transform {
  private readonly hash = createHash('sha256');
  private size = 0;

  constructor(
    private readonly path: string,
    private readonly onEnd: (result: { size: number; sha256: string }) => void,
  ) {
    super();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    done(error && !(error instanceof OutputReadError) ? new OutputReadError(this.path, codeOf(error)) : error);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.onEnd({ size: this.size, sha256: this.hash.digest('hex') });
    done();
  }
}

function shown(path: string): string {
  return path.length > SHOWN_PATH_CHARS ? `${path.slice(0, SHOWN_PATH_CHARS - 1)}…` : path;
}

function codeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'I/O error';
}
