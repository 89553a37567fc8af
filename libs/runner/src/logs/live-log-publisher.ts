import { StringDecoder } from 'node:string_decoder';
import { LIVE_LOG_MESSAGE_BYTES, type LiveLogChunk, type LiveLogMessage, type OutputStream } from '@hub/contracts';

/** What the log capture hands the live log. Neither call ever waits or fails. */
export interface LiveLogTap {
  /** Output as it is read: masked, and within the log cap. */
  write(stream: OutputStream, bytes: Buffer): void;
  /** The log reached its cap: nothing more is kept, or written here. */
  capReached(): void;
}

export interface LiveLogPublisherOptions {
  /** Publishes one message of the attempt; one that fails, or is not acknowledged in time, rejects. */
  send: (message: LiveLogMessage) => Promise<void>;
  /** Told of each publish that failed (its output is counted as not shown). */
  onSendFailed?: (error: Error) => void;
  /** Output per message. Default 64 KiB. */
  maxMessageBytes?: number;
  /** How long output waits for more before it is published. Default 100 ms. */
  flushMs?: number;
  /** Publishes awaiting JetStream's acknowledgement at once; past them, output is dropped. Default 16. */
  maxInFlight?: number;
  now?: () => number;
}

const FLUSH_MS = 100;
/**
 * 16 messages of up to 64 KiB: a burst of a MiB (a test run, `npm install`) is shown whole while
 * JetStream acknowledges (measured: a container printing 1 MB bursts ten times a second lost 4.5 MB
 * of 30 with 4 in flight, none with 16), and an attempt holds about a MiB at most.
 */
const MAX_IN_FLIGHT = 16;

/**
 * An attempt's live log. What the capture hands over is batched into messages (up to 64 KiB of
 * output, or what came within 100 ms), each chunk with its stream and the time it was read, and
 * published, up to 16 unacknowledged at once. It never makes the capture wait: when JetStream is slower than the
 * container, so that a full batch finds every publish slot taken, what comes is dropped and counted,
 * and the next message tells how much is missing before it (the stored log has it all). It holds at
 * most the in-flight messages and one batch, whatever the container prints. `end()` publishes the
 * attempt's end marker.
 */
export class LiveLogPublisher implements LiveLogTap {
  /** Output not shown live: dropped, or in a publish that failed. */
  droppedBytes = 0;
  private readonly maxMessageBytes: number;
  private readonly flushMs: number;
  private readonly maxInFlight: number;
  private readonly now: () => number;
  private readonly decoders: Record<OutputStream, StringDecoder> = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private readonly inFlight = new Set<Promise<void>>();
  private chunks: LiveLogChunk[] = [];
  private batchBytes = 0;
  /** Output dropped just before the batch's first chunk. */
  private droppedBefore = 0;
  /** Output dropped since the batch took its last chunk: the next message's to tell. */
  private droppedSince = 0;
  private capReachedAfter = false;
  /** The batch has waited its flush interval: it goes as soon as a publish slot is free. */
  private due = false;
  private timer: NodeJS.Timeout | null = null;
  private ended = false;

  constructor(private readonly options: LiveLogPublisherOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? LIVE_LOG_MESSAGE_BYTES;
    this.flushMs = options.flushMs ?? FLUSH_MS;
    this.maxInFlight = options.maxInFlight ?? MAX_IN_FLIGHT;
    this.now = options.now ?? Date.now;
  }

  write(stream: OutputStream, bytes: Buffer): void {
    if (this.ended) return;
    let offset = 0;
    // A full batch that no slot takes stays full: the rest of this output is dropped.
    while (offset < bytes.length && this.batchBytes < this.maxMessageBytes) {
      const piece = bytes.subarray(offset, offset + this.maxMessageBytes - this.batchBytes);
      this.append(stream, piece);
      offset += piece.length;
      if (this.batchBytes >= this.maxMessageBytes) this.publishBatch();
    }
    if (offset < bytes.length) this.drop(stream, bytes.length - offset);
    this.schedule();
  }

  capReached(): void {
    if (this.ended) return;
    this.capReachedAfter = true;
    this.schedule();
  }

  /**
   * Publishes what is left and the end marker (both whatever is in flight: the bound gives way for
   * these two), and resolves once JetStream has acknowledged, or refused, every message.
   */
  async end(): Promise<void> {
    if (this.ended) return;
    for (const stream of ['stdout', 'stderr'] as const) this.appendText(stream, this.decoders[stream].end());
    this.ended = true;
    this.clearTimer();
    const last = this.takeBatch();
    if (last) this.dispatch(last.message, last.bytes);
    this.dispatch({ ...(this.droppedSince ? { droppedBytes: this.droppedSince } : {}), chunks: [], end: true }, 0);
    this.droppedSince = 0;
    await Promise.all(this.inFlight);
  }

  private append(stream: OutputStream, bytes: Buffer): void {
    if (this.batchBytes === 0) this.startBatch();
    this.batchBytes += bytes.length;
    this.appendText(stream, this.decoders[stream].write(bytes));
  }

  /** Text of the same stream read in the same millisecond joins the chunk before it. */
  private appendText(stream: OutputStream, text: string): void {
    if (!text) return;
    const t = this.now();
    const last = this.chunks[this.chunks.length - 1];
    if (last && last.stream === stream && last.t === t) last.text += text;
    else this.chunks.push({ t, stream, text });
  }

  private startBatch(): void {
    this.droppedBefore = this.droppedSince;
    this.droppedSince = 0;
  }

  private drop(stream: OutputStream, bytes: number): void {
    this.droppedBytes += bytes;
    this.droppedSince += bytes;
    // A character cut by the gap is not completed by what comes after it.
    this.decoders[stream] = new StringDecoder('utf8');
  }

  private schedule(): void {
    if (this.timer || (this.batchBytes === 0 && !this.capReachedAfter)) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.due = true;
      this.publishBatch();
    }, this.flushMs);
  }

  /** Publishes the batch if a slot is free; false when every slot is taken. */
  private publishBatch(): boolean {
    if (this.inFlight.size >= this.maxInFlight) return false;
    const batch = this.takeBatch();
    if (batch) this.dispatch(batch.message, batch.bytes);
    return true;
  }

  private takeBatch(): { message: LiveLogMessage; bytes: number } | null {
    const empty = this.batchBytes === 0 && !this.chunks.length;
    if (empty && !this.capReachedAfter) return null;
    if (empty) this.startBatch();
    const message: LiveLogMessage = {
      ...(this.droppedBefore ? { droppedBytes: this.droppedBefore } : {}),
      chunks: this.chunks,
      ...(this.capReachedAfter ? { capReached: true as const } : {}),
    };
    const bytes = this.batchBytes;
    this.chunks = [];
    this.batchBytes = 0;
    this.droppedBefore = 0;
    this.capReachedAfter = false;
    this.due = false;
    this.clearTimer();
    return { message, bytes };
  }

  private dispatch(message: LiveLogMessage, bytes: number): void {
    const sending: Promise<void> = this.options
      .send(message)
      .catch((error: Error) => {
        this.droppedBytes += bytes;
        this.droppedSince += bytes;
        this.options.onSendFailed?.(error);
      })
      .finally(() => {
        this.inFlight.delete(sending);
        if (!this.ended && (this.due || this.batchBytes >= this.maxMessageBytes)) this.publishBatch();
      });
    this.inFlight.add(sending);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
