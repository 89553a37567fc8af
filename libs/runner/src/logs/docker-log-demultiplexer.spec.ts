import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { demultiplexLog } from '../docker/docker-container-engine';
import { DockerLogDemultiplexer, type OutputChunk } from './docker-log-demultiplexer';

function frame(stream: 1 | 2, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function demultiplexedChunks(chunks: Buffer[]): Promise<OutputChunk[]> {
  const out: OutputChunk[] = [];
  await pipeline(Readable.from(chunks), new DockerLogDemultiplexer(), async function* (source) {
    for await (const chunk of source) out.push(chunk as OutputChunk);
  });
  return out;
}

async function demultiplexed(chunks: Buffer[]): Promise<Buffer> {
  return Buffer.concat((await demultiplexedChunks(chunks)).map((chunk) => chunk.bytes));
}

/** Each stream's bytes, in order. */
async function byStream(chunks: Buffer[]): Promise<Record<string, string>> {
  const out: Record<string, string> = { stdout: '', stderr: '' };
  for (const chunk of await demultiplexedChunks(chunks)) out[chunk.stream] += chunk.bytes.toString('latin1');
  return out;
}

function cut(content: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (content.length + 1)))].sort((a, b) => a - b);
  return [...points, content.length].map((point, i, all) => content.subarray(i ? all[i - 1] : 0, point));
}

describe('DockerLogDemultiplexer', () => {
  it('joins the payloads in order, however the frames are cut into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom<1 | 2>(1, 2), fc.uint8Array({ maxLength: 40 })), { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        async (frames, offsets) => {
          const raw = Buffer.concat(frames.map(([stream, payload]) => frame(stream, Buffer.from(payload))));
          const expected = Buffer.concat(frames.map(([, payload]) => Buffer.from(payload)));
          expect(await demultiplexed(cut(raw, offsets))).toEqual(expected);
          // The same as the whole-buffer demultiplexer it replaces.
          expect(demultiplexLog(raw)).toEqual(expected);
          // Each payload marked with its stream.
          const streamOf = (wanted: 1 | 2) => Buffer.concat(frames.filter(([stream]) => stream === wanted).map(([, p]) => Buffer.from(p)));
          expect(await byStream(cut(raw, offsets))).toEqual({ stdout: streamOf(1).toString('latin1'), stderr: streamOf(2).toString('latin1') });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('passes a payload on as it arrives, without waiting for the whole frame', async () => {
    const demux = new DockerLogDemultiplexer();
    const header = frame(1, Buffer.alloc(0));
    header.writeUInt32BE(100 * 1024 * 1024, 4); // a 100 MiB frame, of which only 3 bytes come
    const seen: Buffer[] = [];
    demux.on('data', (chunk: OutputChunk) => seen.push(chunk.bytes));
    demux.write(header);
    demux.write(Buffer.from('abc'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(Buffer.concat(seen).toString()).toBe('abc');
  });

  it('passes an unframed (TTY) stream on as it is', async () => {
    expect((await demultiplexed([Buffer.from('plain tty'), Buffer.from(' output\n')])).toString()).toBe('plain tty output\n');
    expect((await demultiplexed([Buffer.from('short')])).toString()).toBe('short');
    expect(await byStream([Buffer.from('plain tty output\n')])).toEqual({ stdout: 'plain tty output\n', stderr: '' });
  });
});
