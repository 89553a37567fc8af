import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@hub.invalid', ...args], { cwd, encoding: 'utf8' }).trim();

/** A bare repository at `path` whose `main` holds these files in one commit, as a user's remote would. */
export function createBareRepository(path: string, files: Record<string, string>): string {
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', path]);
  const work = mkdtempSync(join(tmpdir(), 'hub-e2e-repo-'));
  try {
    git(work, 'init', '--quiet', '--initial-branch=main');
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(dirname(join(work, file)), { recursive: true });
      writeFileSync(join(work, file), content);
    }
    git(work, 'add', '-A');
    git(work, 'commit', '--quiet', '-m', 'initial');
    git(work, 'push', '--quiet', path, 'main');
    return git(work, 'rev-parse', 'HEAD');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
