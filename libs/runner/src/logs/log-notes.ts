import { Transform, type TransformCallback } from 'node:stream';
import type { OutputChunk } from './docker-log-demultiplexer';

/** Notes held before the capture takes them (a container may be refused something before its log is read). */
const MAX_PENDING = 100;

/**
 * Lines Hub adds to a session's log while it runs (`[hub] egress refused: …`): held until the log
 * capture takes them, then written into the log as it is read (stored, and shown live). Once the
 * capture has ended, notes are dropped: the container is gone.
 */
export class LogNotes {
  private pending: string[] = [];
  private sink: ((line: string) => void) | null = null;
  private ended = false;

  add(line: string): void {
    if (this.ended) return;
    if (this.sink) this.sink(line);
    else if (this.pending.length < MAX_PENDING) this.pending.push(line);
  }

  /** The capture takes the notes from now on (those held first). */
  attach(sink: (line: string) => void): void {
    this.sink = sink;
    for (const line of this.pending.splice(0)) sink(line);
  }

  end(): void {
    this.ended = true;
    this.sink = null;
  }
}

/**
 * Passes a container's output through and writes Hub's notes into it, each on a line of its own on
 * stderr (after a newline when the container's stderr stopped mid-line).
 */
export class LogNoteInjector extends Transform {
  private stderrAtLineStart = true;
  private flushed = false;

  constructor(notes: LogNotes) {
    super({ objectMode: true });
    notes.attach((line) => this.note(line));
    this.once('close', () => notes.end());
  }

  override _transform(chunk: OutputChunk, _encoding: BufferEncoding, done: TransformCallback): void {
    if (chunk.stream === 'stderr' && chunk.bytes.length) this.stderrAtLineStart = chunk.bytes[chunk.bytes.length - 1] === 0x0a;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.flushed = true;
    done();
  }

  private note(line: string): void {
    if (this.flushed || this.destroyed) return;
    const text = `${this.stderrAtLineStart ? '' : '\n'}${line.replace(/[\r\n]+/g, ' ')}\n`;
    this.stderrAtLineStart = true;
    this.push({ stream: 'stderr', bytes: Buffer.from(text) } satisfies OutputChunk);
  }
}
