import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeTree } from '../workspace/remove-tree';
import { diskUsage, watchDiskQuota } from './output-quota';

const MiB = 1024 * 1024;
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hub-quota-'));
  dirs.push(dir);
  return dir;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  for (const dir of dirs) await removeTree(dir);
});

describe('watchDiskQuota', () => {
  it('measures what the directories take on disk, sparse files by what they occupy', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    await writeFile(join(a, 'one'), Buffer.alloc(MiB, 1));
    await writeFile(join(b, 'two'), Buffer.alloc(2 * MiB, 1));
    execFileSync('truncate', ['-s', '1G', join(b, 'sparse')]);
    const used = await diskUsage([a, b]);
    expect(used).toBeGreaterThanOrEqual(3 * MiB);
    expect(used).toBeLessThan(3 * MiB + 64 * 1024);
  });

  it('calls onExceeded once when the directories grow over the quota, then stops measuring', async () => {
    const dir = await tempDir();
    const exceeded: number[] = [];
    const watch = watchDiskQuota({ dirs: [dir], quotaBytes: 2 * MiB, intervalMs: 50, onExceeded: (used) => exceeded.push(used) });
    await writeFile(join(dir, 'a'), Buffer.alloc(MiB, 1));
    await sleep(200);
    expect(exceeded).toEqual([]);
    expect(watch.lastUsedBytes).toBeGreaterThanOrEqual(MiB);
    await writeFile(join(dir, 'b'), Buffer.alloc(2 * MiB, 1));
    await sleep(300);
    await writeFile(join(dir, 'c'), Buffer.alloc(MiB, 1));
    await sleep(200);
    watch.stop();
    expect(exceeded).toHaveLength(1);
    expect(exceeded[0]).toBeGreaterThan(2 * MiB);
    expect(await watch.measure()).toBeGreaterThanOrEqual(4 * MiB);
  });

  it('measures a tree deeper than PATH_MAX, and reports no error for a directory that does not exist', async () => {
    const dir = await tempDir();
    const name = 'd'.repeat(200);
    execFileSync('bash', ['-c', `cd "$1" && for i in $(seq 30); do mkdir ${name} && cd ${name}; done && head -c ${MiB} /dev/zero > f`, '_', dir]);
    expect(await diskUsage([dir])).toBeGreaterThanOrEqual(MiB);
    expect(await diskUsage([join(dir, 'missing')])).toBe(0);
  });
});
