import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mirrorKey, resolveRepositorySource } from './mirror-cache';
import { assertBranchName } from './prepare-workspace';

describe('resolveRepositorySource', () => {
  let base: string;
  let root: string;

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'hub-repo-source-'));
    root = join(base, 'repos');
    mkdirSync(join(root, 'app.git'), { recursive: true });
    mkdirSync(join(base, 'elsewhere'));
    symlinkSync(join(base, 'elsewhere'), join(root, 'escape'));
  });

  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('takes an https URL as it is', async () => {
    await expect(resolveRepositorySource('https://github.com/acme/app.git', [])).resolves.toEqual({
      kind: 'https',
      url: 'https://github.com/acme/app.git',
    });
  });

  it('refuses credentials in the URL and every other scheme', async () => {
    await expect(resolveRepositorySource('https://user:tok@github.com/acme/app.git', [])).rejects.toThrow(/carries credentials/);
    await expect(resolveRepositorySource('http://github.com/acme/app.git', [])).rejects.toThrow(/http:\/\/ URLs are not supported/);
    await expect(resolveRepositorySource('ext::sh -c touch% /tmp/pwned', [])).rejects.toThrow(/not supported|neither/);
    await expect(resolveRepositorySource('--upload-pack=touch /tmp/pwned', [])).rejects.toThrow(/neither an https/);
    await expect(resolveRepositorySource('relative/path', [])).rejects.toThrow(/neither an https/);
  });

  it('takes a local path under an allowed root, by its real location', async () => {
    await expect(resolveRepositorySource(join(root, 'app.git'), [root])).resolves.toEqual({ kind: 'local', path: join(root, 'app.git') });
    await expect(resolveRepositorySource(`file://${join(root, 'app.git')}`, [root])).resolves.toMatchObject({ kind: 'local' });
  });

  it('refuses a local path outside the roots, through a link too, and when no roots are set', async () => {
    await expect(resolveRepositorySource(join(root, 'app.git'), [])).rejects.toThrow(/outside the runner's allowed roots \(HUB_LOCAL_REPOSITORY_ROOTS: none set\)/);
    await expect(resolveRepositorySource(join(root, 'escape'), [root])).rejects.toThrow(/outside/);
    await expect(resolveRepositorySource(join(root, 'missing.git'), [root])).rejects.toThrow(/does not exist/);
  });

  it('keys mirrors by a hash of the source: a plain file name, one per repository', () => {
    const key = mirrorKey({ kind: 'https', url: 'https://github.com/acme/app.git' });
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(mirrorKey({ kind: 'https', url: 'https://github.com/acme/other.git' })).not.toBe(key);
    expect(mirrorKey({ kind: 'local', path: '/srv/app.git' })).not.toBe(mirrorKey({ kind: 'https', url: 'https://srv/app.git' }));
  });
});

describe('assertBranchName', () => {
  it.each(['main', 'feature/x-1', 'release-2.0', 'v1.2.3'])('takes %s', (name) => {
    expect(() => assertBranchName(name)).not.toThrow();
  });

  it.each(['-b', '--upload-pack=x', 'a..b', 'a b', 'a:b', 'x.lock', 'a/', '/a', 'a@{1}', 'a\\b', 'a\nb', 'x'.repeat(256)])(
    'refuses %j',
    (name) => {
      expect(() => assertBranchName(name)).toThrow(/not a valid branch name/);
    },
  );
});
