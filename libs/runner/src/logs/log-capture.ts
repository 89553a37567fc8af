import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OutputStream } from '@hub/contracts';
import type { ChunkMasker } from '../secrets/runner-secrets';
import { DockerLogDemultiplexer, type OutputChunk } from './docker-log-demultiplexer';
import type { LiveLogTap } from './live-log-publisher';
import { LogNoteInjector, type LogNotes } from './log-notes';

/** How much of the end of a log is kept in memory (whatever was dropped), for its last line. */
const TAIL_BYTES = 4096;
/** A last line is cut to this many characters. */
const LAST_LINE_CHARS = 300;
/** Chunks (of up to a Docker frame's read each) the file sink holds while the disk catches up. */
const SINK_CHUNKS = 16;

export interface LogCaptureOptions {
  /** Existing directory the log file is written in. */
  dir: string;
  /** The log file's name in `dir`. Default `log`. */
  fileName?: string;
  /** Bytes kept (after masking): the first `capBytes`; every byte beyond is counted as dropped. */
  capBytes: number;
  /**
   * Makes a fresh masker (`RunnerSecrets.chunkMasker`); stdout and stderr get one each, so that what
   * is kept, shown live, and the last line, are masked.
   */
  masker: () => ChunkMasker;
  /** Also given what is kept, as it is read and marked by stream (the live log); it never makes the capture wait. */
  live?: LiveLogTap;
  /** Stops the capture (the promise then rejects with an AbortError); the file keeps what was written. */
  signal?: AbortSignal;
  /** Hub's own lines, written into the log (on stderr) as they come. */
  notes?: LogNotes;
}

export interface LogCapture {
  /** The file the kept bytes are in. */
  file: string;
  keptBytes: number;
  droppedBytes: number;
  /** The last non-empty line the container printed (masked, kept or not), cut to 300 characters. */
  lastLine: string | null;
}

/**
 * Captures a container's log while it runs, from Docker's multiplexed log stream
 * (`ContainerEngine.followLog`): demultiplexed, each stream masked on its own, the first `capBytes`
 * written to a file in the order read (and handed to the live log), the rest counted and dropped.
 * Memory stays bounded (a few chunks, the secrets' lengths and a 4 KiB tail) whatever the container
 * prints. Below the cap, reading waits for the disk (backpressure), never for the live log; beyond
 * it, bytes are dropped as fast as they come, so reading never lags behind the container.
 */
export async function captureLog(raw: NodeJS.ReadableStream, options: LogCaptureOptions): Promise<LogCapture> {
  if (!Number.isSafeInteger(options.capBytes) || options.capBytes < 0) {
    throw new Error(`log cap must be a whole number of bytes, not ${options.capBytes}`);
  }
  const file = join(options.dir, options.fileName ?? 'log');
  const handle = await open(file, 'w', 0o600);
  const sink = new CappedFileSink(handle, options.capBytes, options.live);
  try {
    const demultiplexed = new DockerLogDemultiplexer();
    const masking = new OutputMasking(options.masker);
    if (options.notes) await pipeline(raw, demultiplexed, new LogNoteInjector(options.notes), masking, sink, { signal: options.signal });
    else await pipeline(raw, demultiplexed, masking, sink, { signal: options.signal });
  } finally {
    options.notes?.end();
    await handle.close();
  }
  return { file, keptBytes: sink.keptBytes, droppedBytes: sink.droppedBytes, lastLine: lastLineOf(sink.tail()) };
}

/**
 * Masks stdout and stderr each with its own masker (a secret written in two pieces with a line of the
 * other stream between them is still found), passing the chunks on in the order they came.
 */
class OutputMasking extends Transform {
  private readonly maskers: Record<OutputStream, ChunkMasker>;

  constructor(masker: () => ChunkMasker) {
    super({ objectMode: true });
    this.maskers = { stdout: masker(), stderr: masker() };
  }

  override _transform(chunk: OutputChunk, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pass(chunk.stream, this.maskers[chunk.stream].push(chunk.bytes));
    done();
  }

  override _flush(done: TransformCallback): void {
    this.pass('stdout', this.maskers.stdout.end());
    this.pass('stderr', this.maskers.stderr.end());
    done();
  }

  private pass(stream: OutputStream, bytes: Buffer): void {
    if (bytes.length) this.push({ stream, bytes } satisfies OutputChunk);
  }
}

/**
 * Writes the first `capBytes` bytes to the file (and hands them to the live log) and counts the rest;
 * remembers the last 4 KiB of all.
 */
class CappedFileSink extends Writable {
  keptBytes = 0;
  droppedBytes = 0;
  private readonly ring = Buffer.alloc(TAIL_BYTES);
  private ringEnd = 0;
  private ringFull = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly capBytes: number,
    private readonly live: LiveLogTap | undefined,
  ) {
    super({ objectMode: true, highWaterMark: SINK_CHUNKS });
  }

  override _write({ stream, bytes }: OutputChunk, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.remember(bytes);
    const kept = bytes.subarray(0, Math.max(0, this.capBytes - this.keptBytes));
    if (kept.length) this.live?.write(stream, kept);
    if (kept.length < bytes.length) {
      if (this.droppedBytes === 0) this.live?.capReached();
      this.droppedBytes += bytes.length - kept.length;
    }
    if (!kept.length) return done();
    this.keptBytes += kept.length;
    writeFully(this.handle, kept).then(() => done(), done);
  }

  /** The last (up to) TAIL_BYTES bytes written to this sink, kept or dropped. */
  tail(): Buffer {
    if (!this.ringFull) return Buffer.from(this.ring.subarray(0, this.ringEnd));
    return Buffer.concat([this.ring.subarray(this.ringEnd), this.ring.subarray(0, this.ringEnd)]);
  }

  private remember(chunk: Buffer): void {
    const bytes = chunk.length > TAIL_BYTES ? chunk.subarray(chunk.length - TAIL_BYTES) : chunk;
    const first = Math.min(bytes.length, TAIL_BYTES - this.ringEnd);
    bytes.copy(this.ring, this.ringEnd, 0, first);
    bytes.copy(this.ring, 0, first);
    const end = this.ringEnd + bytes.length;
    if (end >= TAIL_BYTES) this.ringFull = true;
    this.ringEnd = end % TAIL_BYTES;
  }
}

async function writeFully(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

/**
 * The last non-empty line of a log's tail (a carriage return ends a line too: a progress bar shows
 * its last state), control characters blanked, cut to 300 characters.
 */
export function lastLineOf(tail: Buffer): string | null {
  const line = tail
    .toString('utf8')
    .split(/[\r\n]+/)
    .map((l) => l.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ').trim())
    .filter(Boolean)
    .pop();
  return line ? line.slice(0, LAST_LINE_CHARS) : null;
}
