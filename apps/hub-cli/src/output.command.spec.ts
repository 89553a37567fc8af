import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { outputPathIn, writeOutputFile } from './output.command';

const fileOf = (path: string, content: string) => ({
  path,
  size: Buffer.byteLength(content),
  sha256: createHash('sha256').update(content).digest('hex'),
});

describe('hub output: where the files are written', () => {
  it('keeps every listed path under the directory', () => {
    expect(outputPathIn('/tmp/out', 'result.md')).toBe('/tmp/out/result.md');
    expect(outputPathIn('/tmp/out', 'reports/a/b.txt')).toBe('/tmp/out/reports/a/b.txt');
    expect(outputPathIn('/tmp/out', 'a/../b.txt')).toBe('/tmp/out/b.txt');
    expect(outputPathIn('/tmp/out', '..hidden')).toBe('/tmp/out/..hidden');
  });

  it.each(['../escape.txt', 'a/../../escape.txt', '/etc/passwd', '.', '', 'a/..', 'nul\0byte'])('refuses %j', (path) => {
    expect(() => outputPathIn('/tmp/out', path)).toThrow(/refusing the output file .*: it would be written outside \/tmp\/out/);
  });
});

describe('hub output: writing a file', () => {
  let root: string;
  let dir: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'hub-cli-output-'));
    dir = join(root, 'out');
    await mkdir(join(root, 'elsewhere'), { recursive: true });
    await mkdir(dir);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes it, directories and all, when its content has the listed SHA-256', async () => {
    const written = await writeOutputFile(dir, fileOf('reports/review.md', '# Review\n'), Readable.from(['# Review\n']));
    expect(written).toBe(join(dir, 'reports/review.md'));
    expect(await readFile(written, 'utf8')).toBe('# Review\n');
  });

  it('goes through no symbolic link planted in the directory', async () => {
    await symlink(join(root, 'elsewhere'), join(dir, 'link'));
    await expect(writeOutputFile(dir, fileOf('link/x.txt', 'x'), Readable.from(['x']))).rejects.toThrow(/link leads outside/);
    await symlink(join(root, 'elsewhere', 'target.txt'), join(dir, 'file-link.txt'));
    await expect(writeOutputFile(dir, fileOf('file-link.txt', 'x'), Readable.from(['x']))).rejects.toThrow(/is a symbolic link/);
    expect(existsSync(join(root, 'elsewhere', 'x.txt'))).toBe(false);
    expect(existsSync(join(root, 'elsewhere', 'target.txt'))).toBe(false);
  });

  it('removes a file whose content is not what was listed', async () => {
    await expect(writeOutputFile(dir, fileOf('a.txt', 'expected'), Readable.from(['tampered']))).rejects.toThrow(/a.txt arrived with SHA-256 [0-9a-f]{64}, not the listed/);
    expect(existsSync(join(dir, 'a.txt'))).toBe(false);
  });
});
