import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerEngine, HelperExit, HelperLaunch } from '../ports/container-engine.port';
import { captureChanges, CaptureError, type CaptureRequest } from './capture-changes';
import { CAPTURE_OUT_DIR } from './capture-script';

const BASE = 'a'.repeat(40);
const HEAD = 'b'.repeat(40);

/** Stands in for the helper container: writes what `files` says to the directory mounted at /hub/out. */
class FakeHelper implements Pick<ContainerEngine, 'runHelper'> {
  launches: HelperLaunch[] = [];
  constructor(
    private readonly write: (outDir: string) => void,
    private readonly exit: Partial<HelperExit> = {},
  ) {}

  async runHelper(launch: HelperLaunch): Promise<HelperExit> {
    this.launches.push(launch);
    this.write(launch.mounts.find((mount) => mount.containerPath === CAPTURE_OUT_DIR)!.hostPath);
    return { exitCode: 0, oomKilled: false, timedOut: false, logTail: '', ...this.exit };
  }
}

const wellFormed = (out: string) => {
  writeFileSync(join(out, 'head'), `${HEAD}\n`);
  writeFileSync(join(out, 'shortstat'), ' 2 files changed, 3 insertions(+), 1 deletion(-)\n');
  writeFileSync(join(out, 'numstat'), '2\t1\tsrc/app.py\x001\t0\tnew.txt\x00');
  writeFileSync(join(out, 'changes.diff'), 'diff --git a/src/app.py b/src/app.py\n');
  writeFileSync(join(out, 'changes.bundle'), Buffer.concat([Buffer.from(`# v2 git bundle\n-${BASE} base\n${HEAD} HEAD\n\n`), Buffer.from('PACK')]));
};

describe('captureChanges, reading what the helper wrote', () => {
  let outDir: string;
  let request: CaptureRequest;

  beforeEach(() => {
    outDir = mkdtempSync(join(tmpdir(), 'hub-capture-unit-'));
    request = {
      workspaceDir: '/data/sessions/s1/workspace',
      baseCommit: BASE,
      sessionId: 's1',
      sessionLabel: 'impl-a',
      uid: process.getuid!(),
      gid: process.getgid!(),
      outDir,
      image: 'hub/test-agent:latest',
      limits: { memoryBytes: 256 * 1024 * 1024, nanoCpus: 1e9, pids: 64 },
      runnerId: 'r1',
    };
  });
  afterEach(() => rmSync(outDir, { recursive: true, force: true }));

  it("runs the fixed script as the agent's user, and keeps the bundle and the diff in the runner's directory", async () => {
    const helper = new FakeHelper(wellFormed);
    const captured = await captureChanges(helper, request);
    expect(captured).toEqual({
      baseCommit: BASE,
      headCommit: HEAD,
      files: [
        { path: 'src/app.py', added: 2, removed: 1 },
        { path: 'new.txt', added: 1, removed: 0 },
      ],
      fileCount: 2,
      added: 3,
      removed: 1,
      bundleFile: join(outDir, 'changes.bundle'),
      bundleBytes: expect.any(Number),
      diffFile: join(outDir, 'changes.diff'),
      diffBytes: 37,
      truncated: false,
    });
    expect(readdirSync(outDir).sort()).toEqual(['changes.bundle', 'changes.diff']);
    const [launch] = helper.launches;
    expect(launch).toMatchObject({
      purpose: 'capture',
      user: `${request.uid}:${request.gid}`,
      command: ['/bin/sh', '-c', expect.stringContaining('git bundle create')],
      env: { HUB_BASE: BASE, HUB_AUTHOR_NAME: 'hub session impl-a', HUB_COMMIT_MESSAGE: 'Changes left uncommitted by session impl-a' },
      mounts: [
        { hostPath: request.workspaceDir, containerPath: '/workspace', readOnly: false },
        { hostPath: expect.stringMatching(new RegExp(`^${outDir}/capture-`)), containerPath: '/hub/out', readOnly: false },
      ],
    });
  });

  it('never follows a link the helper left, nor blocks on a FIFO', async () => {
    const secret = join(outDir, '..', `hub-capture-secret-${process.pid}`);
    writeFileSync(secret, 'host secret');
    try {
      const linked = new FakeHelper((out) => {
        wellFormed(out);
        rmSync(join(out, 'changes.diff'));
        symlinkSync(secret, join(out, 'changes.diff'));
      });
      await expect(captureChanges(linked, request)).rejects.toThrow(new CaptureError("the capture's changes.diff is not a regular file"));
      const fifo = new FakeHelper((out) => {
        wellFormed(out);
        rmSync(join(out, 'head'));
        execFileSync('mkfifo', [join(out, 'head')]);
      });
      await expect(captureChanges(fifo, request)).rejects.toThrow(/head is not a regular file/);
      expect(readFileSync(secret, 'utf8')).toBe('host secret');
      expect(readdirSync(outDir)).toEqual([]);
    } finally {
      rmSync(secret, { force: true });
    }
  });

  it('refuses a bundle that does not end at the head', async () => {
    const helper = new FakeHelper((out) => {
      wellFormed(out);
      writeFileSync(join(out, 'changes.bundle'), `# v2 git bundle\n${'c'.repeat(40)} HEAD\n\nPACK`);
    });
    await expect(captureChanges(helper, request)).rejects.toThrow(/the bundle does not end at the head commit b{40}/);
  });

  it('says why the helper failed, in words', async () => {
    const failing = (exit: Partial<HelperExit>) => captureChanges(new FakeHelper(() => undefined, exit), request);
    await expect(failing({ exitCode: 12, logTail: 'fatal: oops\x1b[2J\ncapture: git add failed\n' })).rejects.toThrow(
      'capturing the changes of impl-a failed: git add failed (fatal: oops [2J / capture: git add failed)',
    );
    await expect(failing({ exitCode: 137, timedOut: true })).rejects.toThrow('capturing the changes of impl-a failed: it took longer than 120 s');
    await expect(failing({ exitCode: 137, oomKilled: true })).rejects.toThrow('capturing the changes of impl-a failed: it ran out of memory');
    await expect(failing({ exitCode: 0 })).rejects.toThrow('capturing the changes of impl-a failed: no head commit came back');
    expect(existsSync(outDir) && readdirSync(outDir)).toEqual([]);
  });

  it('refuses a base that is not a commit id before running anything', async () => {
    const helper = new FakeHelper(wellFormed);
    await expect(captureChanges(helper, { ...request, baseCommit: 'HEAD; rm -rf /' })).rejects.toThrow(/is not a commit id/);
    expect(helper.launches).toEqual([]);
  });
});
