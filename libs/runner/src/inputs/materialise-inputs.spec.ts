import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputFile } from '@hub/contracts';
import { InputSource, ListedInput, materialiseInputs } from './materialise-inputs';

/** The object store, reduced to what the runner reads: files by session and path. */
class InMemoryOutputs implements InputSource {
  private readonly objects = new Map<string, Buffer>();

  put(sessionId: string, path: string, content: string): OutputFile {
    const bytes = Buffer.from(content);
    this.objects.set(`${sessionId}/${path}`, bytes);
    return { path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  async getFile(sessionId: string, path: string): Promise<Buffer | null> {
    return this.objects.get(`${sessionId}/${path}`) ?? null;
  }
}

const PLANNER = '6a0e8f3c-1d2b-4c5a-8e9f-0a1b2c3d4e5f';
const CODER = '9b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e';

describe('materialiseInputs', () => {
  let root: string;
  let outputs: InMemoryOutputs;

  beforeEach(async () => {
    root = join(await mkdtemp(join(tmpdir(), 'hub-inputs-test-')), 'inputs');
    outputs = new InMemoryOutputs();
  });

  afterEach(async () => {
    await rm(join(root, '..'), { recursive: true, force: true });
  });

  it("writes each dependency's files under its own directory, readable, and returns the mounts in order", async () => {
    const inputs: ListedInput[] = [
      {
        name: 'planner',
        sessionId: PLANNER,
        files: [outputs.put(PLANNER, 'plan.md', '# plan\n'), outputs.put(PLANNER, 'notes/deep/steps.txt', 'one\ntwo\n')],
      },
      { name: 'coder', sessionId: CODER, files: [] },
    ];

    const mounts = await materialiseInputs(inputs, root, outputs);

    expect(mounts).toEqual([
      { name: 'planner', hostPath: join(root, 'planner') },
      { name: 'coder', hostPath: join(root, 'coder') },
    ]);
    expect(await readFile(join(root, 'planner', 'plan.md'), 'utf8')).toBe('# plan\n');
    expect(await readFile(join(root, 'planner', 'notes', 'deep', 'steps.txt'), 'utf8')).toBe('one\ntwo\n');
    expect(await readdir(join(root, 'coder'))).toEqual([]);
    expect((await stat(join(root, 'planner', 'plan.md'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(root, 'planner', 'notes', 'deep', 'steps.txt'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(root, 'planner', 'notes', 'deep'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(root, 'coder'))).mode & 0o777).toBe(0o755);
  });

  it('starts from an empty directory: files left by an earlier run of the attempt are gone', async () => {
    const first = [{ name: 'planner', sessionId: PLANNER, files: [outputs.put(PLANNER, 'old.txt', 'old')] }];
    await materialiseInputs(first, root, outputs);
    const second = [{ name: 'planner', sessionId: PLANNER, files: [outputs.put(PLANNER, 'new.txt', 'new')] }];
    await materialiseInputs(second, root, outputs);
    expect(await readdir(join(root, 'planner'))).toEqual(['new.txt']);
  });

  it('refuses a file whose content does not match the sha256 of its listing', async () => {
    const listed = outputs.put(PLANNER, 'plan.md', 'the plan');
    outputs.put(PLANNER, 'plan.md', 'the PLAN'); // same size, other bytes
    const inputs = [{ name: 'planner', sessionId: PLANNER, files: [listed] }];
    await expect(materialiseInputs(inputs, root, outputs)).rejects.toThrow(
      `input planner: file "plan.md" of dependency session ${PLANNER} has sha256`,
    );
  });

  it('refuses a file whose size does not match its listing', async () => {
    const listed = outputs.put(PLANNER, 'plan.md', 'short');
    outputs.put(PLANNER, 'plan.md', 'rather longer');
    const inputs = [{ name: 'planner', sessionId: PLANNER, files: [listed] }];
    await expect(materialiseInputs(inputs, root, outputs)).rejects.toThrow(/"plan.md" .* is 13 bytes; its listing says 5/);
  });

  it('names the dependency and the file when the object is missing', async () => {
    const inputs = [{ name: 'coder', sessionId: CODER, files: [{ path: 'src/main.ts', size: 3, sha256: 'a'.repeat(64) }] }];
    await expect(materialiseInputs(inputs, root, outputs)).rejects.toThrow(
      `input coder: file "src/main.ts" of dependency session ${CODER} is missing from the object store`,
    );
  });

  it.each(['../escape.txt', 'a/../../escape.txt', '/etc/passwd', 'a\\b.txt', 'a\0b.txt', '', 'a//b', './a'])(
    'refuses the path %j without writing anything outside its directory',
    async (path) => {
      const listed = outputs.put(PLANNER, path, 'payload');
      const inputs = [{ name: 'planner', sessionId: PLANNER, files: [listed] }];
      await expect(materialiseInputs(inputs, root, outputs)).rejects.toThrow(/is not a plain relative path/);
      expect(await readdir(join(root, '..'))).toEqual(['inputs']);
      expect(await readdir(join(root, 'planner'))).toEqual([]);
    },
  );

  it('refuses two inputs with the same name', async () => {
    const inputs = [
      { name: 'dep', sessionId: PLANNER, files: [] },
      { name: 'dep', sessionId: CODER, files: [] },
    ];
    await expect(materialiseInputs(inputs, root, outputs)).rejects.toThrow(/two inputs are named "dep"/);
  });
});
