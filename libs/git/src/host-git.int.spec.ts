import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bareRepository, git, TempDirs } from '@hub/testing';
import { GitCommandError, hostGit } from './host-git';

// Integration test: the real git binary, run as Hub runs it on the host.
const temp = new TempDirs();
afterAll(() => temp.removeAll());

describe('hostGit', () => {
  it('reads none of the host configuration, whatever the runner environment holds', async () => {
    const home = temp.make('home');
    writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = from-home\n[core]\n\thooksPath = /tmp\n');
    const saved = { HOME: process.env['HOME'], GIT_DIR: process.env['GIT_DIR'] };
    process.env['HOME'] = home;
    process.env['GIT_DIR'] = '/nonexistent/.git';
    try {
      const { stdout } = await hostGit(['config', '--list', '--show-scope'], { cwd: temp.make('nowhere'), config: { 'http.extraHeader': 'x' } });
      const scopes = new Set(stdout.trim().split('\n').map((line) => line.split('\t')[0]));
      expect([...scopes]).toEqual(['command']);
      expect(stdout).not.toContain('from-home');
      expect(stdout).toContain('command\tcore.hookspath=/dev/null');
      expect(stdout).toContain('command\thttp.extraheader=x');
    } finally {
      process.env['HOME'] = saved.HOME;
      if (saved.GIT_DIR === undefined) delete process.env['GIT_DIR'];
      else process.env['GIT_DIR'] = saved.GIT_DIR;
    }
  });

  it('runs no hook and no fsmonitor a repository names', async () => {
    const base = temp.make('hooks');
    const { work } = bareRepository(base, 'repo', { 'a.txt': 'a\n' });
    const marker = join(base, 'marker');
    mkdirSync(join(work, '.git', 'hooks'), { recursive: true });
    for (const hook of ['pre-commit', 'post-commit', 'post-checkout']) {
      writeFileSync(join(work, '.git', 'hooks', hook), `#!/bin/sh\ntouch ${marker}-${hook}\n`);
      chmodSync(join(work, '.git', 'hooks', hook), 0o755);
    }
    git(work, 'config', 'core.fsmonitor', `touch ${marker}-fsmonitor; false`);
    writeFileSync(join(work, 'a.txt'), 'changed\n');
    await hostGit(['status', '--porcelain'], { cwd: work });
    await hostGit(['commit', '--quiet', '-am', 'x'], { cwd: work, identity: { GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@b' } });
    for (const kind of ['pre-commit', 'post-commit', 'fsmonitor']) expect(existsSync(`${marker}-${kind}`)).toBe(false);
  });

  it('uses only the transports it is given', async () => {
    const base = temp.make('protocols');
    const { bare } = bareRepository(base, 'repo', { 'a.txt': 'a\n' });
    const marker = join(base, 'ext-ran');
    await expect(hostGit(['ls-remote', `ext::sh -c touch% ${marker}`])).rejects.toThrow(/transport 'ext' not allowed/);
    expect(existsSync(marker)).toBe(false);
    await expect(hostGit(['ls-remote', bare], { protocols: ['https'] })).rejects.toThrow(/transport 'file' not allowed/);
    await expect(hostGit(['ls-remote', bare])).resolves.toMatchObject({ stdout: expect.stringContaining('refs/heads/main') });
  });

  it('says which command failed and why, without host directories or secrets', async () => {
    const base = temp.make('errors');
    const { work } = bareRepository(base, 'repo', { 'a.txt': 'a\n' });
    const failure = await hostGit(['rev-parse', '--verify', join(base, 'nope')], { cwd: work, hide: [base], secrets: ['nope'] }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(GitCommandError);
    expect((failure as GitCommandError).message).toBe('git rev-parse --verify <runner>/*** failed: fatal: Needed a single revision');
    expect((failure as GitCommandError).exitCode).toBe(128);
  });

  it('is killed at its time limit', async () => {
    const fifo = join(temp.make('fifo'), 'never-written');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    await expect(hostGit(['hash-object', fifo], { timeoutMs: 300, hide: [join(fifo, '..')] })).rejects.toThrow(/hash-object <runner>\/never-written failed: no result within 300 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('keeps the first bytes of a large output, and says it was cut', async () => {
    const base = temp.make('output');
    const { work } = bareRepository(base, 'repo', { 'big.txt': 'x'.repeat(100_000) });
    const result = await hostGit(['show', 'HEAD:big.txt'], { cwd: work, maxOutputBytes: 1000 });
    expect(result.stdout).toBe('x'.repeat(1000));
    expect(result.truncated).toBe(true);
  });
});
