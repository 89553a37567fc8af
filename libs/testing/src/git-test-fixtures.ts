import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * For the git specs: git as a test drives it (plain execFileSync, none of the host's configuration),
 * temporary directories removed after the file's tests, and repositories made from a map of files.
 */
const ISOLATED_ENV = {
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@hub.test',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@hub.test',
  LC_ALL: 'C',
};

/** Runs git in `cwd` (safe.directory=* so it may look at workspaces handed to uid 1000); its stdout, trimmed. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'safe.directory=*', '-c', 'protocol.file.allow=always', ...args], {
    cwd,
    env: ISOLATED_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  }).trim();
}

export class TempDirs {
  private readonly dirs: string[] = [];

  make(purpose: string): string {
    const dir = mkdtempSync(join(tmpdir(), `hub-git-${purpose}-`));
    this.dirs.push(dir);
    return dir;
  }

  removeAll(): void {
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** A bare repository at `<base>/<name>.git` whose `main` holds `files` in one commit; also its work clone. */
export function bareRepository(base: string, name: string, files: Record<string, string | Buffer>): { bare: string; work: string } {
  const work = join(base, `${name}-work`);
  const bare = join(base, `${name}.git`);
  git(base, 'init', '--quiet', '--initial-branch=main', work);
  writeFiles(work, files);
  git(work, 'add', '--all');
  git(work, 'commit', '--quiet', '-m', 'initial');
  git(base, 'clone', '--quiet', '--bare', work, bare);
  git(work, 'remote', 'add', 'origin', bare);
  return { bare, work };
}

/** Commits `files` in `work` and pushes main to origin; the new commit. */
export function commitAndPush(work: string, files: Record<string, string | Buffer>, message = 'change'): string {
  writeFiles(work, files);
  git(work, 'add', '--all');
  git(work, 'commit', '--quiet', '-m', message);
  git(work, 'push', '--quiet', 'origin', 'main');
  return git(work, 'rev-parse', 'HEAD');
}
