import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { OutputStream } from '@hub/contracts';
import { RunnerSecrets } from '../secrets/runner-secrets';
import type { LiveLogTap } from './live-log-publisher';
import { captureLog, lastLineOf } from './log-capture';
import { LogNotes } from './log-notes';

const MiB = 1024 * 1024;
const secrets = new RunnerSecrets({ CANARY: 'canary-secret-value' }, []);
const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hub-log-capture-'));
  tempDirs.push(dir);
  return dir;
}

/** Docker's framing: stdout (1) for a string, the given stream for a pair. */
function frames(...payloads: (string | [1 | 2, string])[]): Buffer {
  return Buffer.concat(
    payloads.map((part) => {
      const [stream, payload] = typeof part === 'string' ? [1, part] : part;
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(Buffer.byteLength(payload), 4);
      return Buffer.concat([header, Buffer.from(payload)]);
    }),
  );
}

/** A live log that records what it was given. */
class RecordingTap implements LiveLogTap {
  readonly seen: string[] = [];
  write(stream: OutputStream, bytes: Buffer): void {
    this.seen.push(`${stream}:${bytes.toString()}`);
  }
  capReached(): void {
    this.seen.push('cap');
  }
}

afterAll(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

describe('captureLog', () => {
  it('keeps the demultiplexed, masked log, even with a secret cut across frames and chunks', async () => {
    const raw = frames('hello canary-se', 'cret-value\n', 'bye\n');
    const chunks = [raw.subarray(0, 5), raw.subarray(5, 20), raw.subarray(20)];
    const capture = await captureLog(Readable.from(chunks), { dir: await tempDir(), capBytes: MiB, masker: () => secrets.chunkMasker() });
    expect(await readFile(capture.file, 'utf8')).toBe('hello [masked:CANARY]\nbye\n');
    expect(capture).toMatchObject({ keptBytes: 26, droppedBytes: 0, lastLine: 'bye' });
  });

  it('masks stdout and stderr each on its own, and hands the live log what is kept, marked by stream, in order', async () => {
    // A secret written in two pieces, with a line of stderr between them.
    const raw = frames('key: canary-', [2, 'warning\n'], 'secret-value\n', [2, 'done\n']);
    const live = new RecordingTap();
    const capture = await captureLog(Readable.from([raw]), { dir: await tempDir(), capBytes: MiB, masker: () => secrets.chunkMasker(), live });
    expect(await readFile(capture.file, 'utf8')).toBe('key: warning\n[masked:CANARY]\ndone\n');
    expect(live.seen).toEqual(['stdout:key: ', 'stderr:warning\n', 'stdout:[masked:CANARY]\n', 'stderr:done\n']);
  });

  it('hands the live log the kept bytes only, then tells it the cap was reached, once', async () => {
    const live = new RecordingTap();
    const raw = frames('0123456789', [2, 'abcdefghij\n'], 'more\n');
    await captureLog(Readable.from([raw]), { dir: await tempDir(), capBytes: 15, masker: () => secrets.chunkMasker(), live });
    expect(live.seen).toEqual(['stdout:0123456789', 'stderr:abcde', 'cap']);
  });

  it('keeps the first capBytes, counts the rest, and names the last line printed even when dropped', async () => {
    const raw = frames('0123456789', 'abcdefghij\n', 'dropped line\n', 'last: canary-secret-value\n\n');
    const capture = await captureLog(Readable.from([raw]), { dir: await tempDir(), capBytes: 15, masker: () => secrets.chunkMasker() });
    expect(await readFile(capture.file, 'utf8')).toBe('0123456789abcde');
    expect(capture.keptBytes).toBe(15);
    expect(capture.droppedBytes).toBe(Buffer.byteLength('fghij\ndropped line\nlast: [masked:CANARY]\n\n'));
    expect(capture.lastLine).toBe('last: [masked:CANARY]');
  });

  it('keeps nothing with a cap of 0, and still counts', async () => {
    const capture = await captureLog(Readable.from([frames('abc\n')]), { dir: await tempDir(), capBytes: 0, masker: () => secrets.chunkMasker() });
    expect(capture).toMatchObject({ keptBytes: 0, droppedBytes: 4, lastLine: 'abc' });
    expect(await readFile(capture.file, 'utf8')).toBe('');
  });

  it('stops when aborted', async () => {
    const never = new PassThrough();
    never.write(frames('started\n'));
    const controller = new AbortController();
    const capture = captureLog(never, { dir: await tempDir(), capBytes: MiB, masker: () => secrets.chunkMasker(), signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(capture).rejects.toThrow(/abort/i);
  });

  it('takes the last line from a tail cut anywhere, blanking control characters', () => {
    expect(lastLineOf(Buffer.from('one\ntwo\x1b[31m red\r\n  \n'))).toBe('two [31m red');
    expect(lastLineOf(Buffer.from('10%\r50%\r100%'))).toBe('100%');
    expect(lastLineOf(Buffer.from('\n\n'))).toBeNull();
    expect(lastLineOf(Buffer.from('x'.repeat(1000)))).toHaveLength(300);
  });

  it("writes Hub's notes each on a line of its own on stderr, stored and shown live, those from before the capture first", async () => {
    const notes = new LogNotes();
    notes.add("[hub] egress refused: early.example:443 — not in this session's allow-list");
    const raw = new PassThrough();
    const live = new RecordingTap();
    const capturing = captureLog(raw, { dir: await tempDir(), capBytes: MiB, masker: () => secrets.chunkMasker(), live, notes });

    raw.write(frames('fetching\n', [2, 'wget: server returned error: HTTP/1.1 403 Forb']));
    // Once the capture has read it: the stderr line is cut short, so the note starts a line of its own.
    while (!live.seen.some((chunk) => chunk.includes('Forb'))) await new Promise((resolve) => setTimeout(resolve, 5));
    notes.add("[hub] egress refused: evil.example:443 — not in this session's allow-list");
    raw.end(frames([2, 'idden\n']));
    const captured = await capturing;
    notes.add('[hub] after the end: dropped');

    expect(await readFile(captured.file, 'utf8')).toBe(
      "[hub] egress refused: early.example:443 — not in this session's allow-list\n" +
        'fetching\n' +
        'wget: server returned error: HTTP/1.1 403 Forb\n' +
        "[hub] egress refused: evil.example:443 — not in this session's allow-list\n" +
        'idden\n',
    );
    expect(live.seen[0]).toBe("stderr:[hub] egress refused: early.example:443 — not in this session's allow-list\n");
  });
});
