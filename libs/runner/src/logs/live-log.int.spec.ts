// The live log against a real nats-server -js: what the capture keeps is published to HUB_LOGS as
// it is read and can be read back from the attempt's start; the capture never waits for JetStream,
// even one that does not answer at all (the server frozen with SIGSTOP): it finishes at full speed,
// the live log drops what it cannot publish and says so, and the stored log stays whole.
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { connect, DiscardPolicy, type NatsConnection, nanos } from 'nats';
import { createLogger } from '@hub/config';
import { LIVE_LOG_STREAM, type LiveLogMessage } from '@hub/contracts';
import { makeTempDir, startNatsServer, type NatsServer } from '@hub/infra';
import { LiveLogStream } from '@hub/messaging';
import { RunnerSecrets } from '../secrets/runner-secrets';
import { LiveLogs } from './live-logs';
import { captureLog } from './log-capture';

const MiB = 1024 * 1024;
const logger = createLogger('live-log-test', 'silent');
const secrets = new RunnerSecrets({ CANARY: 'canary-secret-value' }, []);

/** `bytes` of output (100-byte lines), Docker-framed in frames of 16 KiB alternating stdout and stderr, in 64 KiB reads. */
function dockerLog(bytes: number): Buffer[] {
  const line = (i: number) => `line ${String(i).padStart(9, '0')} ${'x'.repeat(84)}\n`;
  const frames: Buffer[] = [];
  let text = '';
  for (let i = 0, written = 0; written < bytes; i++, written += 100) {
    text += line(i);
    if (text.length >= 16 * 1024) {
      frames.push(frame(frames.length % 2 ? 2 : 1, text));
      text = '';
    }
  }
  if (text) frames.push(frame(1, text));
  const raw = Buffer.concat(frames);
  const reads: Buffer[] = [];
  for (let offset = 0; offset < raw.length; offset += 64 * 1024) reads.push(raw.subarray(offset, offset + 64 * 1024));
  return reads;
}

function frame(stream: 1 | 2, text: string): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([header, Buffer.from(text)]);
}

/**
 * Checks the live log against the stored one: walking the messages, each gap (droppedBytes) skips
 * that much of the stored log and each chunk must be the stored log's next bytes; at the end, all of
 * it is accounted for. Answers how much was shown and how much was not.
 */
function compareWithStored(messages: LiveLogMessage[], stored: Buffer): { shown: number; notShown: number } {
  let offset = 0;
  let shown = 0;
  for (const message of messages) {
    offset += message.droppedBytes ?? 0;
    for (const chunk of message.chunks) {
      const bytes = Buffer.from(chunk.text);
      expect(stored.subarray(offset, offset + bytes.length).equals(bytes)).toBe(true);
      offset += bytes.length;
      shown += bytes.length;
    }
  }
  expect(offset).toBe(stored.length);
  return { shown, notShown: stored.length - shown };
}

describe('live logs on JetStream (real nats-server -js)', () => {
  let dir: string;
  let nats: NatsServer;
  let nc: NatsConnection;
  let stream: LiveLogStream;
  let liveLogs: LiveLogs;

  beforeAll(async () => {
    dir = await makeTempDir('hub-live-log');
    nats = await startNatsServer({ storeDir: join(dir, 'nats') });
    nc = await connect({ servers: nats.url, noAsyncTraces: true });
    stream = new LiveLogStream(nc);
    liveLogs = new LiveLogs(stream, { maxBytes: 512 * MiB, maxAgeMs: 3_600_000 }, logger);
    await liveLogs.onApplicationBootstrap();
  }, 60_000);

  afterAll(async () => {
    if (nats?.pid) process.kill(nats.pid, 'SIGCONT');
    await nc?.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Every message of an attempt, read from its first until its end marker. */
  async function readAll(sessionId: string, attempt: number): Promise<LiveLogMessage[]> {
    const messages: LiveLogMessage[] = [];
    const stop = new AbortController();
    for await (const { message } of stream.read(sessionId, attempt, stop.signal, (seq, error) => fail(`message ${seq}: ${error.message}`))) {
      messages.push(message);
      if (message.end) stop.abort();
    }
    return messages;
  }

  /** Captures `raw` to a file, publishing it live; answers the capture, how long it took, and the live log. */
  async function capture(raw: Buffer[], sessionId: string, attempt = 1) {
    const live = liveLogs.open(sessionId, attempt, logger);
    const startedAt = performance.now();
    const captured = await captureLog(Readable.from(raw), { dir, fileName: `${sessionId}-${attempt}.log`, capBytes: 256 * MiB, masker: () => secrets.chunkMasker(), live });
    const captureMs = performance.now() - startedAt;
    return { captured, captureMs, live };
  }

  it('creates the stream with its limits (file storage, oldest first), and brings an existing one to new limits', async () => {
    const jsm = await nc.jetstreamManager();
    const { config } = await jsm.streams.info(LIVE_LOG_STREAM.name);
    expect(config).toMatchObject({ subjects: ['logs.>'], discard: DiscardPolicy.Old, max_bytes: 512 * MiB, max_age: nanos(3_600_000) });

    await new LiveLogs(stream, { maxBytes: 256 * MiB, maxAgeMs: 7_200_000 }, logger).onApplicationBootstrap();
    expect((await jsm.streams.info(LIVE_LOG_STREAM.name)).config).toMatchObject({ max_bytes: 256 * MiB, max_age: nanos(7_200_000) });
    await liveLogs.onApplicationBootstrap();
  });

  it('publishes what is kept as it is read, readable from the attempt’s start, each attempt on its own subject', async () => {
    const sessionId = randomUUID();
    const first = await capture(dockerLog(2 * MiB), sessionId, 1);
    await liveLogs.close(first.live, logger);
    const second = await capture([frame(1, 'second attempt\n')], sessionId, 2);
    await liveLogs.close(second.live, logger);

    const stored = await readFile(first.captured.file);
    const messages = await readAll(sessionId, 1);
    expect(messages.at(-1)).toEqual({ chunks: [], end: true });
    expect(compareWithStored(messages, stored)).toEqual({ shown: stored.length, notShown: 0 });
    expect(messages.every((m) => Buffer.byteLength(m.chunks.map((c) => c.text).join('')) <= 64 * 1024)).toBe(true);
    expect(new Set(messages.flatMap((m) => m.chunks.map((c) => c.stream)))).toEqual(new Set(['stdout', 'stderr']));

    expect((await readAll(sessionId, 2)).flatMap((m) => m.chunks.map((c) => c.text))).toEqual(['second attempt\n']);
    expect(await stream.holds(sessionId, 3)).toBe(false);
  });

  it('captures at full speed while publishing live: 30 MB, against the same capture with no live log', async () => {
    const raw = dockerLog(30 * MiB);
    const alone = performance.now();
    await captureLog(Readable.from(raw), { dir, fileName: 'alone.log', capBytes: 256 * MiB, masker: () => secrets.chunkMasker() });
    const aloneMs = performance.now() - alone;

    const sessionId = randomUUID();
    const { captured, captureMs, live } = await capture(raw, sessionId);
    await liveLogs.close(live, logger);
    const { shown, notShown } = compareWithStored(await readAll(sessionId, 1), await readFile(captured.file));
    console.log(
      `30 MB captured in ${captureMs.toFixed(0)} ms publishing live (${aloneMs.toFixed(0)} ms without); ` +
        `${(shown / MiB).toFixed(1)} MiB shown live, ${(notShown / MiB).toFixed(1)} MiB dropped (read from memory, faster than any container prints)`,
    );
    expect(captured).toMatchObject({ keptBytes: Math.ceil((30 * MiB) / 100) * 100, droppedBytes: 0 });
    expect(notShown).toBe(live.droppedBytes);
    expect(captureMs).toBeLessThan(Math.max(3 * aloneMs, aloneMs + 1_000));
  });

  it('never waits for a JetStream that does not answer: drops and counts what it cannot publish, the stored log whole', async () => {
    const raw = dockerLog(30 * MiB);
    const sessionId = randomUUID();
    process.kill(nats.pid!, 'SIGSTOP');
    let result: Awaited<ReturnType<typeof capture>>;
    try {
      result = await capture(raw, sessionId);
    } finally {
      process.kill(nats.pid!, 'SIGCONT');
    }
    const { captured, captureMs, live } = result;
    // The capture ended while NATS was frozen, at full speed.
    console.log(`30 MB captured in ${captureMs.toFixed(0)} ms with NATS frozen; ${(live.droppedBytes / MiB).toFixed(1)} MiB not shown live`);
    expect(captureMs).toBeLessThan(3_000);
    const stored = await readFile(captured.file);
    expect(stored.length).toBe(captured.keptBytes);
    // Sixteen messages in flight and one batch waiting, at most; the rest was dropped and counted.
    expect(live.droppedBytes).toBeGreaterThanOrEqual(stored.length - 17 * 64 * 1024);

    await live.end();
    const messages = await readAll(sessionId, 1);
    const { notShown } = compareWithStored(messages, stored);
    expect(notShown).toBe(live.droppedBytes);
    expect(messages.at(-1)).toMatchObject({ end: true, droppedBytes: expect.any(Number) });
  }, 30_000);
});
