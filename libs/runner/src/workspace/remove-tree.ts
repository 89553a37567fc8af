import { spawn } from 'node:child_process';
import { isAbsolute, normalize } from 'node:path';

/** What is kept of rm's complaints (one line per entry it could not remove: unbounded otherwise). */
const MAX_STDERR_BYTES = 4 * 1024;

/**
 * Removes a directory tree of any depth, as `rm -rf --one-file-system`: Node's `fs.rm` builds each
 * entry's full path and fails with ENAMETOOLONG once a tree is deeper than PATH_MAX (4096 bytes),
 * which any agent can make; rm walks relative to open directories. It never crosses into another
 * file system (a mount inside the tree) and never follows a link. Nothing there: no error.
 * An error names the directory: it is for the runner's log, not for users (see withoutHostPaths).
 */
export function removeTree(dir: string): Promise<void> {
  if (!isAbsolute(dir) || normalize(dir) === '/') {
    return Promise.reject(new Error(`refusing to remove "${dir}": not an absolute path below /`));
  }
  return new Promise((resolve, reject) => {
    const rm = spawn('rm', ['-rf', '--one-file-system', '--', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    rm.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < MAX_STDERR_BYTES) stderr += chunk.toString('utf8');
    });
    rm.on('error', (error) => reject(new Error(`removing ${dir} failed: ${error.message}`)));
    rm.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const detail = stderr.trim().split('\n')[0]?.slice(0, 500) || (signal ? `killed by ${signal}` : `rm exited with code ${code}`);
      reject(new Error(`removing ${dir} failed: ${detail}`));
    });
  });
}
