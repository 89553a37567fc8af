// Git workspaces (issue 11): what a repository adds to a session's start (the mirror fetched, the
// workspace cloned from it, a dependency's changes merged in) and to its end (the changes captured in
// the helper container), with the real git and the real Docker engine. No Hub runs: the runner's own
// functions are called (libs/runner/src/git), on a local bare repository of 10,000 files and ~52 MB of
// random content made here, whose mirror is warmed first. Goals: preparing ≤ 1 s, capturing 1,000
// changed files ≤ 1 s. The floor of preparing is the disk: the same files written by plain fs calls.
// Everything runs in a temp dir (TMPDIR=/dev/shm measures git without the disk) that is removed after.
//
//   npm run bench -- git                      (RUNS=5 by default, after one warm-up capture)
//   TMPDIR=/dev/shm npm run bench -- git      (on tmpfs: git's own cost)
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MAX_CHANGED_FILES_LISTED } from '@hub/contracts';
import { bareRepository, git, writeFiles } from '@hub/testing';
import { createDockerClient } from '../libs/runner/src/docker/docker-client';
import { DockerContainerEngine } from '../libs/runner/src/docker/docker-container-engine';
import { captureChanges, type CaptureRequest, type CapturedChanges } from '../libs/runner/src/git/capture-changes';
import { type DependencyChanges, mergeChanges } from '../libs/runner/src/git/merge-changes';
import { ensureMirror } from '../libs/runner/src/git/mirror-cache';
import { handOver, prepareWorkspace } from '../libs/runner/src/git/prepare-workspace';
import { describe, heading, IMAGE, median, ms, ROOT, runBench } from './support/bench-kit';

const RUNS = Number(process.env['RUNS'] ?? 5);
const FILES = 10_000;
const DIRS = 100;
/** Random bytes per file, base64: 5,240 characters each, 52.4 MB in all. */
const RAW_BYTES_PER_FILE = 3_930;
const CHANGED = 1_000;
const AGENT = { uid: 1000, gid: 1000 };
/** The runner's defaults (HUB_CONTAINER_MEMORY_MB, HUB_CONTAINER_CPUS, HUB_CONTAINER_PIDS): the helper gets a session's limits. */
const LIMITS = { memoryBytes: 2048 * 1024 * 1024, nanoCpus: 1_000_000_000, pids: 512 };

const engine = new DockerContainerEngine(createDockerClient(process.env['DOCKER_HOST']));

/** What the previous step (or the setup) wrote is flushed first: the kernel would otherwise make the next writer wait for it. */
const sync = () => execFileSync('sync');

async function timed<T>(work: () => T | Promise<T>): Promise<[T, number]> {
  const began = performance.now();
  const result = await work();
  return [result, performance.now() - began];
}

function read(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** The file system the temp dir is on: device, type, size, free. */
function diskOf(dir: string): string {
  const [source, type, size, , avail] = read('df', ['-hT', dir]).split('\n').pop()!.split(/\s+/);
  return `${source} (${type}), ${size}, ${avail} free`;
}

const megabytes = (dir: string) => `${read('du', ['-sm', dir]).split(/\s+/)[0]} MB`;

/** A repository's worth of files: `dir-NN/file-i.txt`, random base64, one line each. */
function randomFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < FILES; i++) files[`dir-${String(i % DIRS).padStart(2, '0')}/file-${i}.txt`] = randomBytes(RAW_BYTES_PER_FILE).toString('base64');
  return files;
}

/** What an agent changes: `count` of the files (spread over every directory), a line added to each. */
function changesTo(files: Record<string, string>, count: number): Record<string, string> {
  const paths = Object.keys(files);
  const step = Math.floor(paths.length / count);
  return Object.fromEntries(Array.from({ length: count }, (_, i) => paths[i * step]).map((path) => [path, `${files[path]}\nadded by the agent\n`]));
}

/** The agent's work, done here as root and handed to uid 1000, as if the agent had done it. */
async function asAgent(dir: string, changes: Record<string, string>): Promise<void> {
  writeFiles(dir, changes);
  await handOver(dir, AGENT.uid, AGENT.gid);
}

function captureRequest(dir: string, outDir: string, baseCommit: string, sessionId: string): CaptureRequest {
  mkdirSync(outDir, { mode: 0o700 });
  return {
    workspaceDir: dir,
    baseCommit,
    sessionId,
    sessionLabel: sessionId,
    ...AGENT,
    outDir,
    image: IMAGE,
    limits: LIMITS,
    runnerId: 'runner-bench',
    maxFilesListed: MAX_CHANGED_FILES_LISTED, // as the runner asks
  };
}

function expectCaptured(captured: CapturedChanges, files: number): CapturedChanges {
  if (captured.fileCount !== files || !captured.bundleFile) {
    throw new Error(`captured ${captured.fileCount} changed files (bundle ${captured.bundleFile}), not ${files}`);
  }
  return captured;
}

/** A workspace fully checked out and clean, or the figure measured nothing. */
function expectCheckedOut(dir: string, files: number): void {
  const count = readdirSync(dir).filter((name) => name.startsWith('dir-')).reduce((sum, name) => sum + readdirSync(join(dir, name)).length, 0);
  const status = git(dir, 'status', '--porcelain');
  if (count !== files || status) throw new Error(`workspace ${dir}: ${count} files checked out, not ${files}; status: ${status.slice(0, 200)}`);
}

runBench('git workspaces: preparing a workspace from a warm mirror, merging, capturing changes', async () => {
  const base = mkdtempSync(join(tmpdir(), 'hub-bench-git-'));
  try {
    await engine.ping();
    execFileSync('bash', [resolve(ROOT, 'images/test-agent/build.sh')], { stdio: 'ignore' });
    console.log(`  temp dir: ${base} on ${diskOf(base)}; ${read('git', ['--version'])}`);

    // The repositories and their mirrors, warm.
    const repos = join(base, 'repos');
    mkdirSync(repos);
    const files = randomFiles();
    const totalMb = Object.values(files).reduce((sum, content) => sum + content.length, 0) / 1e6;
    const [{ bare }, setupMs] = await timed(() => bareRepository(repos, 'big', files));
    rmSync(join(repos, 'big-work'), { recursive: true, force: true });
    const small: Record<string, string> = {};
    for (let i = 0; i < CHANGED; i++) small[`src/module-${i}.txt`] = `line 1 of ${i}\nline 2\n`;
    const smallBare = bareRepository(repos, 'small', small).bare;
    const mirrorOptions = { cacheDir: join(base, 'cache'), localRoots: [repos] };
    const [bigMirror, cloneMs] = await timed(() => ensureMirror(bare, mirrorOptions));
    const smallMirror = await ensureMirror(smallBare, mirrorOptions);

    // A dependency's changes (what mergeChanges is given): 1,000 of the files changed by a session,
    // captured by the helper (also the warm-up of the helper container, not counted).
    const depDir = join(base, 'dependency');
    const dep = await prepareWorkspace({ dir: depDir, mirror: bigMirror, sessionId: 'dependency', ...AGENT });
    const agentChanges = changesTo(files, CHANGED);
    await asAgent(depDir, agentChanges);
    const depCaptured = expectCaptured(await captureChanges(engine, captureRequest(depDir, join(base, 'dependency-out'), dep.baseCommit, 'dependency')), CHANGED);
    const dependency: DependencyChanges = {
      sessionName: 'dependency',
      sessionId: 'dependency',
      bundleFile: depCaptured.bundleFile!,
      headCommit: depCaptured.headCommit,
    };
    heading('setup (not measured against a goal)', [
      `repository: ${FILES} files in ${DIRS} directories, ${totalMb.toFixed(1)} MB of random base64, one commit; made in ${ms(setupMs)}`,
      `its mirror: ${megabytes(bigMirror)} on disk, cloned cold in ${ms(cloneMs)}`,
      `a dependency's changes: ${CHANGED} files changed (+${depCaptured.added} −${depCaptured.removed} lines), a bundle of ${(depCaptured.bundleBytes / 1e6).toFixed(1)} MB`,
      `helper container: ${IMAGE}, the runner's default limits (${LIMITS.memoryBytes / 2 ** 20} MiB, ${LIMITS.nanoCpus / 1e9} CPU, ${LIMITS.pids} pids)`,
    ]);
    rmSync(depDir, { recursive: true, force: true });

    const f = {
      fetch: [] as number[],
      prepare: [] as number[],
      fetchPrepare: [] as number[],
      prepareFlush: [] as number[],
      merge: [] as number[],
      fetchPrepareMerge: [] as number[],
      plain: [] as number[],
      plainFlush: [] as number[],
      captureSmall: [] as number[],
      captureBig: [] as number[],
      captureNothing: [] as number[],
    };
    for (let run = 0; run < RUNS; run++) {
      const round = join(base, `run-${run}`);
      mkdirSync(round);

      // 1. The mirror fetched (nothing new), then the workspace prepared from it; then its write-back.
      sync();
      const [mirror, fetchMs] = await timed(() => ensureMirror(bare, mirrorOptions));
      const [, prepareMs] = await timed(() => prepareWorkspace({ dir: join(round, 'ws'), mirror, sessionId: `bench-${run}`, ...AGENT }));
      const [, flushMs] = await timed(sync);
      f.fetch.push(fetchMs);
      f.prepare.push(prepareMs);
      f.fetchPrepare.push(fetchMs + prepareMs);
      f.prepareFlush.push(fetchMs + prepareMs + flushMs);
      expectCheckedOut(join(round, 'ws'), FILES);
      if (run === 0) console.log(`  a workspace: ${megabytes(join(round, 'ws'))} on disk (its own copy of the pack, plus the checkout)`);

      // 2. The same, and one dependency's changes merged in (a fast-forward of 1,000 files).
      sync();
      const [mirror2, fetch2Ms] = await timed(() => ensureMirror(bare, mirrorOptions));
      const [, prepare2Ms] = await timed(() => prepareWorkspace({ dir: join(round, 'ws-merged'), mirror: mirror2, sessionId: `bench-m${run}`, ...AGENT }));
      const [merged, mergeMs] = await timed(() => mergeChanges(join(round, 'ws-merged'), [dependency], AGENT));
      if (merged.headCommit !== dependency.headCommit) throw new Error(`merged to ${merged.headCommit}, not ${dependency.headCommit}`);
      f.merge.push(mergeMs);
      f.fetchPrepareMerge.push(fetch2Ms + prepare2Ms + mergeMs);
      expectCheckedOut(join(round, 'ws-merged'), FILES);

      // 3. The floor on this disk at this moment: the same files written by plain fs calls.
      sync();
      const [, plainMs] = await timed(() => writeFiles(join(round, 'plain'), files));
      const [, plainFlushMs] = await timed(sync);
      f.plain.push(plainMs);
      f.plainFlush.push(plainMs + plainFlushMs);

      // 4. Capturing 1,000 changed files: all of a 1,000-file repository (as the spec measured it), and
      //    1,000 of the 10,000 files of the large one; then nothing changed (the helper's fixed cost).
      const smallDir = join(round, 'small');
      const smallBase = await prepareWorkspace({ dir: smallDir, mirror: smallMirror, sessionId: `small-${run}`, ...AGENT });
      await asAgent(smallDir, Object.fromEntries(Object.keys(small).map((path) => [path, `${small[path]}added by the agent\n`])));
      const bigDir = join(round, 'big');
      const bigBase = await prepareWorkspace({ dir: bigDir, mirror: bigMirror, sessionId: `big-${run}`, ...AGENT });
      await asAgent(bigDir, agentChanges);
      sync();
      const [smallCaptured, smallMs] = await timed(() => captureChanges(engine, captureRequest(smallDir, join(round, 'small-out'), smallBase.baseCommit, `small-${run}`)));
      expectCaptured(smallCaptured, CHANGED);
      sync();
      const [bigCaptured, bigMs] = await timed(() => captureChanges(engine, captureRequest(bigDir, join(round, 'big-out'), bigBase.baseCommit, `big-${run}`)));
      expectCaptured(bigCaptured, CHANGED);
      sync();
      const [nothing, nothingMs] = await timed(() =>
        captureChanges(engine, captureRequest(smallDir, join(round, 'nothing-out'), smallCaptured.headCommit, `nothing-${run}`)),
      );
      if (nothing.fileCount !== 0 || nothing.bundleFile) throw new Error(`captured ${nothing.fileCount} files where nothing changed`);
      f.captureSmall.push(smallMs);
      f.captureBig.push(bigMs);
      f.captureNothing.push(nothingMs);

      rmSync(round, { recursive: true, force: true });
      process.stdout.write(`  run ${run + 1}/${RUNS}: fetch + prepare ${ms(fetchMs + prepareMs)}, plain writes ${ms(plainMs)}, capture ${ms(smallMs)}\n`);
    }

    heading(`preparing a workspace of ${FILES} files / ${totalMb.toFixed(1)} MB from a warm mirror, ${RUNS} runs (sync before each)`, [
      'goal: ≤ 1 s added to a session\'s start (fetch + prepare)',
    ]);
    describe('ensureMirror: fetch, nothing new', f.fetch);
    describe('prepareWorkspace: clone, checkout, hand over', f.prepare);
    describe('fetch + prepare', f.fetchPrepare);
    describe('fetch + prepare + sync (its disk write-back)', f.prepareFlush);
    describe('the floor: the same files by plain fs calls', f.plain);
    describe('the floor + sync (its disk write-back)', f.plainFlush);
    describe(`mergeChanges: a dependency's ${CHANGED} files (fast-forward)`, f.merge);
    describe('fetch + prepare + merge', f.fetchPrepareMerge);

    heading(`capturing ${CHANGED} changed files in the helper container, ${RUNS} runs (sync before each)`, ['goal: ≤ 1 s']);
    describe(`${CHANGED} changed of a ${CHANGED}-file repository (small files)`, f.captureSmall);
    describe(`${CHANGED} changed of the ${FILES}-file one (5 kB lines)`, f.captureBig);
    describe("nothing changed: the helper container's fixed cost", f.captureNothing);

    heading('verdict (p50)', [
      `preparing (fetch + prepare): ${ms(median(f.fetchPrepare))}, goal ≤ 1 s: ${median(f.fetchPrepare) <= 1000 ? 'met' : 'MISSED'} ` +
        `(the floor, plain writes: ${ms(median(f.plain))})`,
      `capturing ${CHANGED} changed files: ${ms(median(f.captureSmall))}, goal ≤ 1 s: ${median(f.captureSmall) <= 1000 ? 'met' : 'MISSED'}; ` +
        `in the ${FILES}-file repository: ${ms(median(f.captureBig))}, ${median(f.captureBig) <= 1000 ? 'met' : 'MISSED'}`,
    ]);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
