import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Writes a bundle streamed from the object store to a file of its own in a new directory under
 * `dir` (never whole in memory), runs `use` on the file, and removes it, whatever happens.
 */
export async function withBundleFile<T>(dir: string, content: Readable, use: (file: string) => Promise<T>): Promise<T> {
  const tempDir = await mkdtemp(join(dir, '.bundle-'));
  try {
    const file = join(tempDir, 'changes.bundle');
    await pipeline(content, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    return await use(file);
  } finally {
    content.destroy();
    await rm(tempDir, { recursive: true, force: true });
  }
}
