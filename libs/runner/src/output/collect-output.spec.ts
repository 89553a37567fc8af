import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { RunnerSecrets } from '../secrets/runner-secrets';
import { removeTree } from '../workspace/remove-tree';
import { collectOutput, type OutputLimits, type StoreOutputFile } from './collect-output';

const secrets = new RunnerSecrets({ CANARY: 'canary-secret-value' }, []);
const LIMITS: OutputLimits = { maxFiles: 100, maxTotalBytes: 10 * 1024 * 1024 };
const dirs: string[] = [];

async function outputDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hub-collect-output-'));
  dirs.push(dir);
  return dir;
}

/** An in-memory object store: what each path was stored as. */
function memoryStore(): { stored: Map<string, Buffer>; store: StoreOutputFile } {
  const stored = new Map<string, Buffer>();
  return {
    stored,
    store: async (path, content) => {
      const chunks: Buffer[] = [];
      for await (const chunk of content()) chunks.push(chunk as Buffer);
      stored.set(path, Buffer.concat(chunks));
    },
  };
}

const sha256 = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');
const collect = (dir: string, store: StoreOutputFile, limits: OutputLimits = LIMITS) =>
  collectOutput(dir, { limits, masker: () => secrets.maskingStream(), store });

afterAll(async () => {
  for (const dir of dirs) await removeTree(dir);
});

describe('collectOutput', () => {
  it('stores every regular file, masked, with the size and sha256 of what was stored', async () => {
    const dir = await outputDir();
    mkdirSync(join(dir, 'sub/deeper'), { recursive: true });
    writeFileSync(join(dir, 'result.txt'), 'done\n');
    writeFileSync(join(dir, 'sub/deeper/key.txt'), 'key=canary-secret-value\n');
    writeFileSync(join(dir, 'empty'), '');
    const { stored, store } = memoryStore();

    const output = await collect(dir, store);

    const masked = 'key=[masked:CANARY]\n';
    expect(output).toEqual({
      files: [
        { path: 'empty', size: 0, sha256: sha256('') },
        { path: 'result.txt', size: 5, sha256: sha256('done\n') },
        { path: 'sub/deeper/key.txt', size: masked.length, sha256: sha256(masked) },
      ],
      bytes: 5 + masked.length,
      skipped: [],
      skippedCount: 0,
    });
    expect(stored.get('sub/deeper/key.txt')!.toString()).toBe(masked);
  });

  it('follows no symbolic link and reads nothing but regular files (a FIFO does not block it)', async () => {
    const dir = await outputDir();
    writeFileSync(join(dir, 'real.txt'), 'real');
    symlinkSync('/etc/passwd', join(dir, 'passwd'));
    symlinkSync('/etc', join(dir, 'etc'));
    symlinkSync('real.txt', join(dir, 'relative-link'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const { stored, store } = memoryStore();

    const output = await collect(dir, store);

    expect(output.files.map((f) => f.path)).toEqual(['real.txt']);
    expect(output.skipped).toEqual([
      { path: 'etc', reason: 'a symbolic link (not followed)' },
      { path: 'fifo', reason: 'not a regular file' },
      { path: 'passwd', reason: 'a symbolic link (not followed)' },
      { path: 'relative-link', reason: 'a symbolic link (not followed)' },
    ]);
    expect([...stored.keys()]).toEqual(['real.txt']);
  });

  it('walks a tree deeper than the OS allows in a path, keeping what is within the path limit, naming no host path', async () => {
    const dir = await outputDir();
    // 40 levels of 120-character names: 4,840 bytes deep, over PATH_MAX (4,096), made relative.
    const name = 'd'.repeat(120);
    execFileSync('bash', ['-c', `cd "$1" && for i in $(seq 40); do mkdir ${name} && cd ${name}; done && echo deep > bottom.txt`, '_', dir]);
    writeFileSync(join(dir, name, 'shallow.txt'), 'shallow');
    const { store } = memoryStore();

    const output = await collect(dir, store);

    expect(output.files.map((f) => f.path)).toEqual([`${name}/shallow.txt`]);
    // Level 9 is the first past 1,024 bytes: not walked into, and named once.
    expect(output.skippedCount).toBe(1);
    const [skipped] = output.skipped;
    expect(skipped.reason).toBe('a directory whose path is longer than 1024 bytes');
    expect(skipped.path).toHaveLength(200);
    expect(skipped.path.startsWith(`${name}/d`)).toBe(true);
    expect(skipped.path.endsWith('…')).toBe(true);
    expect(JSON.stringify(output)).not.toContain(dir);
  });

  it('skips a file whose path is longer than maxPathLength (UTF-8 bytes)', async () => {
    const dir = await outputDir();
    writeFileSync(join(dir, 'é'.repeat(6)), 'x'); // 12 bytes
    writeFileSync(join(dir, 'short'), 'x');
    const { store } = memoryStore();
    const output = await collect(dir, store, { ...LIMITS, maxPathLength: 10 });
    expect(output.files.map((f) => f.path)).toEqual(['short']);
    expect(output.skipped).toEqual([{ path: 'é'.repeat(6), reason: 'path is longer than 10 bytes' }]);
  });

  it('skips a name that is not UTF-8 (it could not be named back)', async () => {
    const dir = await outputDir();
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x66, 0xff, 0x67])]), 'x');
    const { store } = memoryStore();
    const output = await collect(dir, store);
    expect(output.files).toEqual([]);
    expect(output.skipped).toEqual([{ path: 'f\uFFFDg', reason: 'name is not valid UTF-8' }]);
  });

  it('applies maxFiles and maxTotalBytes, names at most 20 skipped entries and counts them all', async () => {
    const dir = await outputDir();
    for (let i = 0; i < 40; i++) writeFileSync(join(dir, `f${String(i).padStart(2, '0')}`), 'x'.repeat(10));
    const { store } = memoryStore();

    const byCount = await collect(dir, store, { maxFiles: 5, maxTotalBytes: 1000 });
    expect(byCount.files.map((f) => f.path)).toEqual(['f00', 'f01', 'f02', 'f03', 'f04']);
    expect(byCount.skippedCount).toBe(35);
    expect(byCount.skipped).toHaveLength(20);
    expect(byCount.skipped[0]).toEqual({ path: 'f05', reason: 'over the limit of 5 files' });

    const byBytes = await collect(dir, store, { maxFiles: 100, maxTotalBytes: 25 });
    expect(byBytes.files.map((f) => f.path)).toEqual(['f00', 'f01']);
    expect(byBytes).toMatchObject({ bytes: 20, skippedCount: 38 });
    expect(byBytes.skipped[0]).toEqual({ path: 'f02', reason: 'over the limit of 25 bytes in all' });
  });

  it('stops walking after maxEntries entries, naming where it stopped', async () => {
    const dir = await outputDir();
    mkdirSync(join(dir, 'a'));
    for (let i = 0; i < 30; i++) writeFileSync(join(dir, 'a', `f${String(i).padStart(2, '0')}`), 'x');
    writeFileSync(join(dir, 'b'), 'x');
    const { store } = memoryStore();
    const output = await collect(dir, store, { ...LIMITS, maxEntries: 10 });
    // a, then 9 of its files (which ones is the file system's order), then where it stopped.
    expect(output.files).toHaveLength(9);
    expect(output.files.every((f) => /^a\/f\d\d$/.test(f.path))).toBe(true);
    expect(output.skipped).toEqual([
      { path: expect.stringMatching(/^a\/f\d\d$/), reason: 'not looked at, nor anything after it: the output has more than 10 entries' },
    ]);
    expect(output.skippedCount).toBe(1);
  });

  it('skips a file that fails while read, with its relative path and code, and no host path', async () => {
    const dir = await outputDir();
    writeFileSync(join(dir, 'bad'), 'x');
    writeFileSync(join(dir, 'good'), 'y');
    const failing = () =>
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          if (chunk.toString() === 'x') return done(Object.assign(new Error(`EIO: i/o error, read ${dir}/bad`), { code: 'EIO' }));
          done(null, chunk);
        },
      });
    const { store } = memoryStore();
    const output = await collectOutput(dir, { limits: LIMITS, masker: failing, store });
    expect(output.files.map((f) => f.path)).toEqual(['good']);
    expect(output.skipped).toEqual([{ path: 'bad', reason: 'could not be read (EIO)' }]);
  });

  it('throws when the store fails (the attempt failed to store), and lets the store retry', async () => {
    const dir = await outputDir();
    writeFileSync(join(dir, 'file'), 'content canary-secret-value');
    await expect(collect(dir, async () => Promise.reject(new Error('NATS: timeout')))).rejects.toThrow('NATS: timeout');

    let attempts = 0;
    const retrying: StoreOutputFile = async (_path, content) => {
      const first = content();
      first.read(1); // a partial read, then NATS fails: read again from the start
      first.destroy();
      attempts++;
      const chunks: Buffer[] = [];
      for await (const chunk of content()) chunks.push(chunk as Buffer);
      attempts++;
      expect(Buffer.concat(chunks).toString()).toBe('content [masked:CANARY]');
    };
    const output = await collect(dir, retrying);
    expect(attempts).toBe(2);
    expect(output.files).toEqual([{ path: 'file', size: 23, sha256: sha256('content [masked:CANARY]') }]);
  });

  it('streams a 256 MiB file with the memory used staying far below its size', async () => {
    const dir = await outputDir();
    execFileSync('bash', ['-c', `head -c ${256 * 1024 * 1024} /dev/zero > "$1/big"`, '_', dir]);
    let seen = 0;
    const counting: StoreOutputFile = async (_path, content) => {
      for await (const chunk of content()) seen += (chunk as Buffer).length;
    };
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
    const output = await collect(dir, counting, { maxFiles: 1, maxTotalBytes: 1024 * 1024 * 1024 });
    clearInterval(sampler);
    expect(seen).toBe(256 * 1024 * 1024);
    expect(output.files[0]).toMatchObject({ path: 'big', size: 256 * 1024 * 1024 });
    expect((rssPeak - rssBefore) / 1024 / 1024).toBeLessThan(64);
  });

  it('says so, without the host path, when the output directory itself cannot be read', async () => {
    const dir = join(await outputDir(), 'missing');
    const error = await collect(dir, memoryStore().store).catch((e: Error) => e);
    expect((error as Error).message).toBe('the output directory could not be read (ENOENT)');
  });
});

