import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { createLogger } from '@hub/config';
import {
  type EventOf,
  type EventPayload,
  type EventSubject,
  orchestrationChangesKey,
  type OrchestrationView,
  type RpcRequest,
  type RpcResponse,
  type RpcSubject,
  SESSION_STATUSES,
  type SessionCounts,
  type SessionSpec,
  type SessionView,
  type StoredChanges,
  EgressPolicy,
  NO_USAGE,
} from '@hub/contracts';
import type { EventPublisher, OutputStore, RpcClient } from '@hub/messaging';
import { bareRepository, buildSessionView, git, TempDirs, writeFiles } from '@hub/testing';
import { createDockerClient } from '../docker/docker-client';
import { DockerContainerEngine } from '../docker/docker-container-engine';
import { BASE_REF } from '../git/base-bundle';
import { handOver } from '../git/prepare-workspace';
import type { RunnerSettings } from '../runner.tokens';
import { RunnerSecrets } from '../secrets/runner-secrets';
import { ImageEnvironment } from '../sessions/image-environment';
import { NetworkPolicy } from '../sessions/image-policy';
import { AttemptFiles } from '../workspace/attempt-files';
import { BaseBundles } from '../workspace/base-bundles';
import { GitWorkspaces } from '../workspace/git-workspaces';
import { CombineOrchestration } from './combine-orchestration.use-case';
import { ResultChanges } from './result-changes';

// Integration test: the real git binary, the real Docker engine and the hub/test-agent image as the
// capture helper. Sessions are prepared and captured as the runner does (GitWorkspaces), their agents'
// work done here as root and handed to uid 1000; the registry, the object store and the event
// publisher are in memory. Fails (never skips) when Docker is unreachable.
const IMAGE = process.env['HUB_TEST_AGENT_IMAGE'] ?? 'hub/test-agent:latest';
const BUILD_SCRIPT = resolve(__dirname, '../../../../images/test-agent/build.sh');
const AGENT = { uid: 1000, gid: 1000 };
const APP = 'def main():\n    print("hello")\n\nmain()\n';
const engine = new DockerContainerEngine(createDockerClient(process.env['DOCKER_HOST']));
const logger = createLogger('combine-orchestration-test', 'silent');
const temp = new TempDirs();

beforeAll(async () => {
  await engine.ping();
  execFileSync('bash', [BUILD_SCRIPT], { stdio: 'pipe' });
});
afterAll(() => temp.removeAll());

/** The object store's changes and base bundles, in memory. */
class InMemoryChangesStore {
  readonly changes = new Map<string, StoredChanges>();
  readonly bundles = new Map<string, Buffer>();
  readonly bases = new Map<string, Buffer>();

  async putChanges(key: string, changes: StoredChanges, files: { bundle: string; diff: string }): Promise<void> {
    this.changes.set(key, changes);
    this.bundles.set(key, readFileSync(files.bundle));
  }

  async getChanges(key: string): Promise<StoredChanges | null> {
    return this.changes.get(key) ?? null;
  }

  async getChangesBundleStream(key: string): Promise<Readable | null> {
    const bundle = this.bundles.get(key);
    return bundle ? Readable.from([bundle]) : null;
  }

  async hasBaseBundle(commit: string): Promise<boolean> {
    return this.bases.has(commit);
  }

  async putBaseBundle(commit: string, file: string): Promise<void> {
    this.bases.set(commit, readFileSync(file));
  }

  async getBaseBundleStream(commit: string): Promise<Readable | null> {
    const bundle = this.bases.get(commit);
    return bundle ? Readable.from([bundle]) : null;
  }
}

/** The registry's orchestrations.read, one session a page, so that the use case must read on. */
class PagedRegistry {
  pagesRead = 0;
  constructor(private readonly view: OrchestrationView) {}

  async call<S extends RpcSubject>(_subject: S, request: RpcRequest<S>): Promise<RpcResponse<S>> {
    this.pagesRead++;
    const at = Number((request as { cursor?: string }).cursor ?? 0);
    const next = at + 1 < this.view.sessions.length ? String(at + 1) : null;
    return { ...this.view, sessions: this.view.sessions.slice(at, at + 1), nextCursor: next } as RpcResponse<S>;
  }
}

class RecordingPublisher {
  readonly published: { subject: EventSubject; data: unknown; id: string | undefined }[] = [];

  async publish<S extends EventSubject>(subject: S, data: EventPayload<S>, id?: string): Promise<void> {
    this.published.push({ subject, data, id });
  }

  results(): EventPayload<'orchestration.result'>[] {
    return this.published.filter((event) => event.subject === 'orchestration.result').map((event) => event.data as EventPayload<'orchestration.result'>);
  }
}

/** Sessions' repository: a local path, a URL the runner rewrites to that path (HUB_REPOSITORY_REWRITES), or none. */
function setup(repository: 'local' | 'rewritten' | 'none' = 'local') {
  const base = temp.make('combine');
  const repos = join(base, 'repos');
  mkdirSync(repos);
  const { bare, work } = bareRepository(repos, 'app', { 'src/app.py': APP, 'README.md': '# app\n', 'docs/notes.md': 'notes\n' });
  const dataDir = join(base, 'data');
  const settings: RunnerSettings = {
    runnerId: 'runner-test',
    dataDir,
    containerUser: `${AGENT.uid}:${AGENT.gid}`,
    limits: { memoryBytes: 512 * 1024 * 1024, nanoCpus: 2_000_000_000, pids: 128 },
    stopGraceSeconds: 1,
    outputLimits: { maxFiles: 10, maxTotalBytes: 1024 * 1024 },
    logCapBytes: 1024,
    gitHelperImage: IMAGE,
    repositoryRewrites: [{ from: 'https://git.example/', to: `${repos}/` }],
    outputQuotaBytes: 64 * 1024 * 1024,
    expectedImages: [],
    secrets: new RunnerSecrets({}, []),
    imageEnvironment: new ImageEnvironment(''),
    localRepositoryRoots: [repos],
    networks: new NetworkPolicy(''),
    egress: { policy: new EgressPolicy('none'), resolve: new Map(), bridgeImage: 'hub/egress-bridge:latest' },
    reconcileIntervalMs: 30_000,
  };
  const store = new InMemoryChangesStore();
  const outputs = store as unknown as OutputStore;
  const baseBundles = new BaseBundles(outputs, settings);
  const workspaces = new GitWorkspaces(outputs, baseBundles, engine, settings);
  const files = new AttemptFiles(settings);
  const orchestrationId = randomUUID();
  const repositoryOf = { local: bare, rewritten: 'https://git.example/app.git', none: null }[repository];

  /** A session run as the runner runs one: its workspace prepared, the agent's work done, its changes captured. */
  async function session(name: string, work: Record<string, string>, dependsOn: SessionView[] = []): Promise<SessionView> {
    const sessionId = randomUUID();
    const spec: SessionSpec = {
      sessionId,
      orchestrationId,
      name,
      orchestrationName: 'ship it',
      type: 'implementation',
      prompt: 'work',
      context: null,
      egress: null,
      continueFrom: null,
      image: IMAGE,
      repository: repositoryOf,
      branch: null,
      timeoutSeconds: 60,
      attempt: 1,
      preamble: '',
      inputs: dependsOn.map((dependency) => ({ name: dependency.name!, sessionId: dependency.id })),
    };
    const paths = await files.prepare(sessionId, 1, spec.prompt);
    await workspaces.prepare(spec, paths, logger);
    writeFiles(paths.workspaceDir, work);
    await handOver(paths.workspaceDir, AGENT.uid, AGENT.gid);
    const changes = await workspaces.capture(sessionId, paths, logger);
    await files.discard(sessionId, logger);
    return buildSessionView({ id: sessionId, orchestrationId, name, status: 'completed', repository: repositoryOf, changes, dependsOn: dependsOn.map((d) => d.id) });
  }

  /** orchestration.finished for these sessions, handled by a CombineOrchestration: what it published. */
  async function finish(sessions: SessionView[], publish: { branch: string } | null, eventId: string = randomUUID()) {
    const counts = Object.fromEntries(SESSION_STATUSES.map((status) => [status, sessions.filter((s) => s.status === status).length])) as SessionCounts;
    const status = counts.completed === sessions.length ? 'completed' : 'failed';
    const view: OrchestrationView = {
      id: orchestrationId,
      name: 'ship it',
      status,
      maxParallel: null,
      sessionCount: sessions.length,
      counts,
      createdAt: new Date().toISOString(),
      publish,
      usage: NO_USAGE,
      budget: null,
      result: null,
      sessions,
      nextCursor: null,
    };
    const registry = new PagedRegistry(view);
    const publisher = new RecordingPublisher();
    const useCase = new CombineOrchestration(
      registry as unknown as RpcClient,
      new ResultChanges(workspaces, baseBundles, settings),
      workspaces,
      publisher as unknown as EventPublisher,
      settings,
      logger,
    );
    const event: EventOf<'orchestration.finished'> = {
      id: eventId,
      subject: 'orchestration.finished',
      occurredAt: '2030-01-02T03:04:05.000Z',
      data: { orchestrationId, status, publish, at: '2030-01-02T03:04:05.000Z' },
    };
    await useCase.onFinished(event);
    expect(existsSync(join(dataDir, 'orchestrations', orchestrationId))).toBe(false);
    expect(publisher.results()).toHaveLength(1);
    return { result: publisher.results()[0].result, messageId: publisher.published[0].id, pagesRead: registry.pagesRead };
  }

  /** The stored combined changes, fetched (with the stored history up to their base) into a fresh repository. */
  function combinedCopy(baseCommit: string): string {
    const copy = join(base, `copy-${randomUUID()}`);
    git(base, 'init', '--quiet', '--bare', copy);
    const baseFile = join(base, `${randomUUID()}.bundle`);
    const changesFile = join(base, `${randomUUID()}.bundle`);
    writeFileSync(baseFile, store.bases.get(baseCommit)!);
    writeFileSync(changesFile, store.bundles.get(orchestrationChangesKey(orchestrationId))!);
    git(copy, 'fetch', '--quiet', baseFile, `${BASE_REF}:${BASE_REF}`);
    git(copy, 'fetch', '--quiet', changesFile, 'HEAD:refs/heads/result');
    return copy;
  }

  return { base, bare, work, dataDir, store, session, finish, combinedCopy };
}

describe('CombineOrchestration (orchestration.finished)', () => {
  it("combines two final sessions' changes to different files, stores them, and pushes them to the branch asked for", async () => {
    const { bare, dataDir, store, session, finish, combinedCopy } = setup();
    const plan = await session('plan', { 'PLAN.md': 'the plan\n' });
    const implA = await session('impl-a', { 'src/app.py': APP.replace('hello', 'hello from a') }, [plan]);
    const implB = await session('impl-b', { 'docs/notes.md': 'notes\nby b\n' }, [plan]);

    const { result, messageId, pagesRead } = await finish([plan, implA, implB], { branch: 'feature/ship' }, 'finished-1');

    expect(pagesRead).toBe(3);
    expect(messageId).toBe('orchestration.result:finished-1');
    const changes = result.changes!;
    expect(result.reason).toBeNull();
    expect(changes).toMatchObject({
      branch: 'hub/ship-it/_result',
      baseCommit: plan.changes!.baseCommit,
      files: 3,
      repository: bare,
      sessions: [
        { sessionId: implA.id, name: 'impl-a' },
        { sessionId: implB.id, name: 'impl-b' },
      ],
    });
    expect(store.changes.get(orchestrationChangesKey(implA.orchestrationId))?.summary.headCommit).toBe(changes.headCommit);
    const copy = combinedCopy(changes.baseCommit);
    expect(git(copy, 'rev-parse', 'refs/heads/result')).toBe(changes.headCommit);
    expect(git(copy, 'show', 'refs/heads/result:src/app.py')).toContain('hello from a');
    expect(git(copy, 'show', 'refs/heads/result:docs/notes.md')).toBe('notes\nby b');
    expect(git(copy, 'show', 'refs/heads/result:PLAN.md')).toBe('the plan');
    expect(git(copy, 'log', '-1', '--format=%an|%s|%cd', '--date=iso-strict', 'refs/heads/result')).toBe(
      'Hub|Merge the changes of impl-b|2030-01-02T03:04:05+00:00',
    );

    expect(result.publish).toEqual({ branch: 'feature/ship', status: 'pushed', commit: changes.headCommit, reason: null });
    expect(git(bare, 'rev-parse', 'refs/heads/feature/ship')).toBe(changes.headCommit);
    expect(git(bare, 'rev-parse', 'refs/heads/main')).toBe(changes.baseCommit);
    // The shared mirror got no ref of Hub's.
    const mirrors = join(dataDir, 'mirrors');
    for (const mirror of readdirSync(mirrors)) expect(git(join(mirrors, mirror), 'for-each-ref', 'refs/hub')).toBe('');

    // The same event again (the runner died before acking): the very same commits, pushed again as they are.
    const again = await finish([plan, implA, implB], { branch: 'feature/ship' }, 'finished-1');
    expect(again.messageId).toBe('orchestration.result:finished-1');
    expect(again.result.changes?.headCommit).toBe(changes.headCommit);
    expect(again.result.publish).toEqual({ branch: 'feature/ship', status: 'pushed', commit: changes.headCommit, reason: null });
  });

  it('fails to combine changes to the same line, naming the file, and pushes nothing', async () => {
    const { bare, store, session, finish } = setup();
    const implA = await session('impl-a', { 'src/app.py': APP.replace('hello', 'hello from a') });
    const implB = await session('impl-b', { 'src/app.py': APP.replace('hello', 'hello from b') });

    const { result } = await finish([implA, implB], { branch: 'feature/ship' });

    expect(result.changes).toBeNull();
    expect(result.reason).toBe("impl-b's changes conflict with impl-a's in src/app.py");
    expect(result.publish).toEqual({
      branch: 'feature/ship',
      status: 'not_pushed',
      commit: null,
      reason: "its changes could not be combined: impl-b's changes conflict with impl-a's in src/app.py",
    });
    expect(store.changes.has(orchestrationChangesKey(implA.orchestrationId))).toBe(false);
    expect(() => git(bare, 'rev-parse', '--verify', '--quiet', 'refs/heads/feature/ship')).toThrow();
  });

  it('refuses to push over a branch that went elsewhere, saying why, without host paths', async () => {
    const { base, bare, work, session, finish } = setup('rewritten');
    const implA = await session('impl-a', { 'README.md': '# app, by a\n' });
    const implB = await session('impl-b', { 'docs/notes.md': 'by b\n' });
    // Someone else's work on the branch meanwhile.
    git(work, 'checkout', '--quiet', '-b', 'feature/ship');
    writeFiles(work, { 'other.txt': 'someone else\n' });
    git(work, 'add', '--all');
    git(work, 'commit', '--quiet', '-m', 'elsewhere');
    git(work, 'push', '--quiet', 'origin', 'feature/ship');
    const theirs = git(work, 'rev-parse', 'HEAD');

    const { result } = await finish([implA, implB], { branch: 'feature/ship' });

    expect(result.changes?.files).toBe(2);
    expect(result.publish).toMatchObject({ branch: 'feature/ship', status: 'failed', commit: result.changes!.headCommit });
    expect(result.publish!.reason).toMatch(/^the push to feature\/ship was refused: .*\[rejected\].*feature\/ship \(non-fast-forward\)/);
    // The repository is named as the sessions gave it, never by where the runner found it.
    expect(result.publish!.reason).toContain("failed to push some refs to 'https://git.example/app.git'");
    expect(result.publish!.reason).not.toContain(base);
    expect(git(bare, 'rev-parse', 'refs/heads/feature/ship')).toBe(theirs);
  });

  it('does not push when a session did not complete, and combines what completed', async () => {
    const { bare, session, finish } = setup();
    const implA = await session('impl-a', { 'README.md': '# a\n' });
    const implB = { ...(await session('impl-b', { 'docs/notes.md': 'b\n' })), status: 'failed' as const };

    const { result } = await finish([implA, implB], { branch: 'feature/ship' });

    expect(result.changes).toMatchObject({ headCommit: implA.changes!.headCommit, files: 1, sessions: [{ sessionId: implA.id, name: 'impl-a' }] });
    expect(result.publish).toEqual({ branch: 'feature/ship', status: 'not_pushed', commit: null, reason: '1 session did not complete (1 failed)' });
    expect(() => git(bare, 'rev-parse', '--verify', '--quiet', 'refs/heads/feature/ship')).toThrow();
  });

  it('starts from the stored history when the repository no longer has the base', async () => {
    const { base, bare, dataDir, session, finish, combinedCopy } = setup();
    const implA = await session('impl-a', { 'README.md': '# a\n' });
    const implB = await session('impl-b', { 'docs/notes.md': 'b\n' });
    // The repository's history rewritten, and the runner's mirror gone: the base is nowhere but in Hub's store.
    const rewritten = join(base, 'rewritten');
    git(base, 'init', '--quiet', '--initial-branch=main', rewritten);
    writeFiles(rewritten, { 'other.txt': 'other\n' });
    git(rewritten, 'add', '--all');
    git(rewritten, 'commit', '--quiet', '-m', 'unrelated');
    rmSync(bare, { recursive: true });
    git(base, 'clone', '--quiet', '--bare', rewritten, bare);
    renameSync(join(dataDir, 'mirrors'), join(base, 'old-mirrors'));

    const { result } = await finish([implA, implB], null);

    expect(result.reason).toBeNull();
    expect(result.publish).toBeNull();
    const copy = combinedCopy(implA.changes!.baseCommit);
    expect(git(copy, 'show', 'refs/heads/result:README.md')).toBe('# a');
    expect(git(copy, 'show', 'refs/heads/result:docs/notes.md')).toBe('b');
  });

  it('combines sessions without repository from the empty commit, and says why it cannot push them', async () => {
    const { store, session, finish } = setup('none');
    const implA = await session('impl-a', { 'a.txt': 'a\n' });
    const implB = await session('impl-b', { 'b.txt': 'b\n' });

    const { result } = await finish([implA, implB], { branch: 'feature/ship' });

    expect(result.changes).toMatchObject({ baseCommit: implA.changes!.baseCommit, files: 2, repository: null });
    expect(store.bases.has(implA.changes!.baseCommit)).toBe(true);
    expect(result.publish).toEqual({ branch: 'feature/ship', status: 'not_pushed', commit: null, reason: 'its sessions worked in no repository' });
  });

  it('has no result but says so when no session changed anything', async () => {
    const { session, finish } = setup();
    const idle = await session('idle', {});
    expect(idle.changes).toBeNull();

    const { result } = await finish([idle], { branch: 'feature/ship' });

    expect(result).toMatchObject({ changes: null, reason: null, publish: { status: 'not_pushed', commit: null, reason: 'nothing changed' } });
  });
});
