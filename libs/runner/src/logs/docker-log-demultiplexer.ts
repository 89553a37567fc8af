import { Transform, type TransformCallback } from 'node:stream';
import type { OutputStream } from '@hub/contracts';

const HEADER_BYTES = 8;
const STDERR = 2;

/** Bytes a container wrote, and to which of its outputs. */
export interface OutputChunk {
  stream: OutputStream;
  bytes: Buffer;
}

/**
 * Docker's non-TTY log stream, as a stream: each frame is an 8-byte header (stream byte 0–2, three
 * zero bytes, big-endian payload length) then the payload; out come the payloads, in order, each
 * marked with its stream (an OutputChunk; stdin's, never written, counts as stdout). Frames may be
 * cut anywhere across chunks, and a payload may be as large as 4 GiB: it is passed on piece by piece
 * as it arrives, never gathered, so at most a header (8 bytes) is ever held. A stream that is not
 * framed (a TTY container's) is passed on as it is, as stdout, from the first byte that is not a header.
 */
export class DockerLogDemultiplexer extends Transform {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerBytes = 0;
  private payloadLeft = 0;
  private payloadStream: OutputStream = 'stdout';
  private framed = true;

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.framed) {
        this.pass('stdout', chunk.subarray(offset));
        break;
      }
      if (this.payloadLeft > 0) {
        const end = Math.min(chunk.length, offset + this.payloadLeft);
        this.pass(this.payloadStream, chunk.subarray(offset, end));
        this.payloadLeft -= end - offset;
        offset = end;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.headerBytes, chunk.length - offset);
      chunk.copy(this.header, this.headerBytes, offset, offset + take);
      this.headerBytes += take;
      offset += take;
      if (this.headerBytes < HEADER_BYTES) break;
      this.headerBytes = 0;
      if (!isFrameHeader(this.header)) {
        // Not framed after all: what was taken for a header is content.
        this.framed = false;
        this.pass('stdout', Buffer.from(this.header));
        continue;
      }
      this.payloadLeft = this.header.readUInt32BE(4);
      this.payloadStream = this.header[0] === STDERR ? 'stderr' : 'stdout';
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    // A stream cut inside a header: those bytes are kept, not lost.
    if (this.headerBytes > 0) this.pass('stdout', Buffer.from(this.header.subarray(0, this.headerBytes)));
    done();
  }

  private pass(stream: OutputStream, bytes: Buffer): void {
    const chunk: OutputChunk = { stream, bytes };
    this.push(chunk);
  }
}

function isFrameHeader(header: Buffer): boolean {
  return header[0] <= 2 && header[1] === 0 && header[2] === 0 && header[3] === 0;
}
