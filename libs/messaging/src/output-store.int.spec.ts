// OutputStore against a real nats-server -js: logs and output files streamed in and out (any size,
// bounded memory), manifests stored by reference and checked against their schema.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { connect, NatsConnection } from 'nats';
import { manifestObjectName, OUTPUT_BUCKET, type OutputManifest } from '@hub/contracts';
import { makeTempDir, startNatsServer, type NatsServer } from '@hub/infra';
import { OutputStore } from './output-store';

const MiB = 1024 * 1024;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A file of `bytes` pseudo-random bytes, written without holding it in memory; its sha256. */
async function bigFile(path: string, bytes: number): Promise<string> {
  const handle = await open(path, 'w');
  const hash = createHash('sha256');
  const block = Buffer.alloc(MiB);
  for (let written = 0; written < bytes; written += block.length) {
    for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((written + i) * 2654435761 >>> 0, i);
    const piece = block.subarray(0, Math.min(block.length, bytes - written));
    hash.update(piece);
    await handle.write(piece);
  }
  await handle.close();
  return hash.digest('hex');
}

describe('OutputStore (real nats-server -js)', () => {
  let dir: string;
  let nats: NatsServer;
  let nc: NatsConnection;
  let store: OutputStore;

  beforeAll(async () => {
    dir = await makeTempDir('hub-output-store');
    nats = await startNatsServer({ storeDir: join(dir, 'nats') });
    nc = await connect({ servers: nats.url });
    store = new OutputStore(nc);
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("streams each attempt's log file in and out, beside the session's one log of before", async () => {
    const sessionId = randomUUID();
    const file = join(dir, 'log');
    await writeFile(file, 'line one\nline two\n');
    expect(await store.putLogFile(sessionId, 2, file)).toMatchObject({ size: 18 });
    expect((await readAll((await store.getLogStream(sessionId, 2))!)).toString()).toBe('line one\nline two\n');
    expect((await store.getLog(sessionId, 2))!.toString()).toBe('line one\nline two\n');
    expect(await store.getLogStream(sessionId, 1)).toBeNull();

    expect(await store.getSessionLogStream(sessionId)).toBeNull();
    await store.putLog(sessionId, Buffer.from('stored before attempts had their own\n'));
    expect((await readAll((await store.getSessionLogStream(sessionId))!)).toString()).toBe('stored before attempts had their own\n');
  });

  it('stores an output file from a stream that arrives in pieces, empty files included', async () => {
    const sessionId = randomUUID();
    const pieces = new PassThrough();
    const put = store.putFileStream(sessionId, 'dir/a.txt', pieces);
    for (const piece of ['he', 'llo', ' ', 'world']) {
      pieces.write(piece);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    pieces.end();
    expect(await put).toMatchObject({ size: 11 });
    expect((await store.getFile(sessionId, 'dir/a.txt'))!.toString()).toBe('hello world');

    await store.putFileStream(sessionId, 'empty', Readable.from([]));
    expect(await readAll((await store.getFileStream(sessionId, 'empty'))!)).toEqual(Buffer.alloc(0));
    expect(await store.getFileStream(sessionId, 'absent')).toBeNull();
    expect(await store.getLogStream(sessionId, 1)).toBeNull();
  });

  it('fails the put, keeping nothing, when the stream fails', async () => {
    const sessionId = randomUUID();
    const failing = new Readable({ read() {} });
    const put = store.putFileStream(sessionId, 'broken', failing);
    failing.push(Buffer.alloc(300 * 1024, 1));
    setTimeout(() => failing.destroy(new Error('disk went away')), 20);
    await expect(put).rejects.toThrow(/disk went away/);
    expect(await store.getFileStream(sessionId, 'broken')).toBeNull();
  });

  it('round-trips a 300 MiB file with the memory used staying far below its size', async () => {
    const sessionId = randomUUID();
    const file = join(dir, 'big');
    const bytes = 300 * MiB + 12345;
    const sha256 = await bigFile(file, bytes);

    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
    let startedAt = Date.now();
    const stored = await store.putFileStream(sessionId, 'big.bin', createReadStream(file));
    const putSeconds = (Date.now() - startedAt) / 1000;
    startedAt = Date.now();
    const hash = createHash('sha256');
    let read = 0;
    const reading = (await store.getFileStream(sessionId, 'big.bin'))!;
    // A slow reader (an HTTP client on a slow link): nothing is fetched that it has not asked for.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for await (const chunk of reading) {
      hash.update(chunk as Buffer);
      read += (chunk as Buffer).length;
    }
    const getSeconds = (Date.now() - startedAt) / 1000;
    clearInterval(sampler);

    expect(stored.size).toBe(bytes);
    expect(read).toBe(bytes);
    expect(hash.digest('hex')).toBe(sha256);
    const growthMiB = (rssPeak - rssBefore) / MiB;
    console.log(`300 MiB: put ${putSeconds.toFixed(1)} s, get ${getSeconds.toFixed(1)} s (with a 2 s pause); RSS grew ${growthMiB.toFixed(1)} MiB at most`);
    expect(growthMiB).toBeLessThan(100);
    await rm(file);
  });

  it('stores and reads a manifest, and refuses one that breaks the schema', async () => {
    const sessionId = randomUUID();
    expect(await store.getManifest(sessionId)).toBeNull();
    const manifest: OutputManifest = {
      sessionId,
      attempt: 2,
      files: [{ path: 'result.txt', size: 5, sha256: 'a'.repeat(64) }],
      skipped: [{ path: 'link', reason: 'a symbolic link (not followed)' }],
      skippedCount: 3,
    };
    await store.putManifest(sessionId, manifest);
    expect(await store.getManifest(sessionId)).toEqual(manifest);

    await expect(store.putManifest(sessionId, { ...manifest, attempt: 0 })).rejects.toThrow();
    const os = await nc.jetstream().views.os(OUTPUT_BUCKET);
    await os.putBlob({ name: manifestObjectName(sessionId) }, Buffer.from('{"files": "not a list"}'));
    await expect(store.getManifest(sessionId)).rejects.toThrow(/malformed/);
  });
});
