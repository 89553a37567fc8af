import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { OutputFile } from '@hub/contracts';

export interface CollectedFile extends OutputFile {
  content: Buffer;
}

export interface OutputLimits {
  maxFiles: number;
  maxTotalBytes: number;
}

/**
 * Reads what the agent left in its output directory. Only regular files count: a symbolic link
 * is never followed (it could point anywhere on the runner's host). Stops at the limits.
 */
export async function collectOutput(dir: string, limits: OutputLimits): Promise<{ files: CollectedFile[]; skipped: string[] }> {
  const files: CollectedFile[] = [];
  const skipped: string[] = [];
  let total = 0;
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(current, entry.name);
      const path = relative(dir, full);
      const stats = await lstat(full);
      if (stats.isDirectory()) {
        await walk(full);
      } else if (!stats.isFile()) {
        skipped.push(`${path} (not a regular file)`);
      } else if (files.length >= limits.maxFiles || total + stats.size > limits.maxTotalBytes) {
        skipped.push(`${path} (over the output limits)`);
      } else {
        const content = await readFile(full);
        total += content.length;
        files.push({ path, size: content.length, sha256: createHash('sha256').update(content).digest('hex'), content });
      }
    }
  };
  await walk(dir);
  return { files, skipped };
}
