import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createLogger } from '@hub/config';
import {
  EgressPolicy,
  EventOf,
  EventPayload,
  EventSubject,
  LiveLogMessage,
  OutputFile,
  OutputManifest,
  RpcRequest,
  RpcResponse,
  RpcSubject,
  SessionSpec,
} from '@hub/contracts';
import { DeferredDelivery, EventPublisher, ImageRefusals, LiveLogStream, OutputStore, RpcClient, RunnerHeartbeats, RunnerPresence } from '@hub/messaging';
import { InputFetcher } from '../inputs/input-fetcher';
import { LiveLogs } from '../logs/live-logs';
import { ImagePacing, parseImagePacing } from '../pacing/image-pacing';
import { LiveRunners } from '../placement/live-runners';
import { SessionPlacement } from '../placement/session-placement';
import { AttemptOutputs } from '../output/attempt-outputs';
import type {
  ContainerEngine,
  ContainerExit,
  ContainerLaunch,
  HelperContainer,
  HelperExit,
  ImageStatus,
  SessionContainer,
  SessionHelperLaunch,
} from '../ports/container-engine.port';
import type { RunnerSettings } from '../runner.tokens';
import { RunnerSlots } from '../slots/runner-slots';
import { AttemptFiles } from '../workspace/attempt-files';
import type { GitWorkspaces } from '../workspace/git-workspaces';
import { EgressProxy } from '../egress/egress-proxy';
import { SessionEgress } from '../egress/session-egress';
import { ExitReporter } from './exit-reporter';
import { ImagePolicy, NetworkPolicy } from './image-policy';
import { RunnerSecrets } from '../secrets/runner-secrets';
import { ImageEnvironment } from './image-environment';
import { RunSession } from './run-session.use-case';
import { SessionLedger } from './session-ledger';
import { SettleOnShutdown } from './settle-on-shutdown.use-case';
import { WatchContainer } from './watch-container.use-case';

// RunSession with its ports in memory: the registry answers claims, the object store holds the
// dependencies' outputs, and the engine runs nothing but records what it was asked to launch.

const SESSION = '3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7';
const PLANNER = '6a0e8f3c-1d2b-4c5a-8e9f-0a1b2c3d4e5f';
const CODER = '9b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e';

class InMemoryRegistry {
  claims = 0;
  constructor(private readonly spec: SessionSpec) {}

  async call<S extends RpcSubject>(_subject: S, _request: RpcRequest<S>): Promise<RpcResponse<S>> {
    this.claims++;
    return { claimed: true, spec: this.spec } as RpcResponse<S>;
  }
}

class RecordingPublisher {
  readonly published: { subject: EventSubject; data: unknown }[] = [];

  async publish<S extends EventSubject>(subject: S, data: EventPayload<S>): Promise<void> {
    this.published.push({ subject, data });
  }

  exited(): EventPayload<'container.exited'> | undefined {
    return this.published.find((e) => e.subject === 'container.exited')?.data as EventPayload<'container.exited'>;
  }
}

class InMemoryOutputs {
  private readonly objects = new Map<string, Buffer>();
  readonly stored: string[] = [];
  /** The next this-many calls fail as they do while NATS restarts. */
  unreachableFor = 0;

  private reach(): void {
    if (this.unreachableFor > 0) {
      this.unreachableFor--;
      throw Object.assign(new Error('TIMEOUT'), { code: 'TIMEOUT' });
    }
  }

  private readonly manifests = new Map<string, OutputManifest>();

  /** A dependency's output file, listed in its manifest. */
  put(sessionId: string, path: string, content: string): OutputFile {
    const bytes = Buffer.from(content);
    this.objects.set(`${sessionId}/${path}`, bytes);
    const file = { path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    this.list(sessionId, [file]);
    return file;
  }

  /** A dependency's manifest listing these files (stored or not). */
  list(sessionId: string, files: OutputFile[]): void {
    const manifest = this.manifests.get(sessionId) ?? { sessionId, attempt: 1, files: [], skipped: [], skippedCount: 0 };
    this.manifests.set(sessionId, { ...manifest, files: [...manifest.files, ...files] });
  }

  manifestOf(sessionId: string): OutputManifest | undefined {
    return this.manifests.get(sessionId);
  }

  async getManifest(sessionId: string): Promise<OutputManifest | null> {
    this.reach();
    return this.manifests.get(sessionId) ?? null;
  }

  async getFile(sessionId: string, path: string): Promise<Buffer | null> {
    this.reach();
    return this.objects.get(`${sessionId}/${path}`) ?? null;
  }

  async putLogFile(sessionId: string, attempt: number, file: string): Promise<void> {
    this.reach();
    this.objects.set(`${sessionId}/logs/${attempt}`, readFileSync(file));
    this.stored.push(`${sessionId}/logs/${attempt}`);
  }

  async putFileStream(sessionId: string, path: string, content: NodeJS.ReadableStream): Promise<void> {
    this.reach();
    const chunks: Buffer[] = [];
    for await (const chunk of content) chunks.push(Buffer.from(chunk));
    this.objects.set(`${sessionId}/output/${path}`, Buffer.concat(chunks));
    this.stored.push(`${sessionId}/output/${path}`);
  }

  async putManifest(sessionId: string, manifest: OutputManifest): Promise<void> {
    this.reach();
    this.manifests.set(sessionId, manifest);
  }

  logOf(sessionId: string, attempt: number): string | undefined {
    return this.objects.get(`${sessionId}/logs/${attempt}`)?.toString('utf8');
  }
}

/** The live logs (HUB_LOGS): what each attempt published, in order. */
class InMemoryLiveLogStream {
  readonly published = new Map<string, LiveLogMessage[]>();

  async publish(sessionId: string, attempt: number, message: LiveLogMessage): Promise<void> {
    const key = `${sessionId}/${attempt}`;
    this.published.set(key, [...(this.published.get(key) ?? []), message]);
  }

  async discard(sessionId: string, attempt: number): Promise<void> {
    this.published.delete(`${sessionId}/${attempt}`);
  }

  /** The output an attempt published, joined, and whether it ended (at its last message). */
  of(sessionId: string, attempt: number): { output: string; ended: boolean } {
    const messages = this.published.get(`${sessionId}/${attempt}`) ?? [];
    const output = messages.flatMap((m) => m.chunks.map((c) => c.text)).join('');
    return { output, ended: !!messages.at(-1)?.end };
  }
}

/** The runners' heartbeats (NATS KV), in memory: who is alive now, with which labels. */
class InMemoryHeartbeats {
  readonly runners = new Map<string, string[]>();

  async present(): Promise<Map<string, RunnerPresence>> {
    const startedAt = new Date().toISOString();
    return new Map(
      [...this.runners].map(([runnerId, labels]) => [runnerId, { ok: true, heartbeat: { runnerId, startedAt, slots: 1, inUse: 0, labels } }]),
    );
  }
}

/** Which runners refused each attempt for its image (NATS KV), in memory. */
class InMemoryImageRefusals {
  readonly refused = new Map<string, string[]>();

  async refuse(sessionId: string, attempt: number, _image: string, runnerId: string): Promise<string[]> {
    const key = `${sessionId}.${attempt}`;
    const refusedBy = this.refused.get(key) ?? [];
    if (!refusedBy.includes(runnerId)) this.refused.set(key, [...refusedBy, runnerId]);
    return this.refused.get(key)!;
  }
}

/** Workspaces without git: every session starts from one base commit and changes nothing (git-workspaces.int.spec.ts has the real thing). */
class InMemoryWorkspaces {
  async prepare(): Promise<{ baseCommit: string; headCommit: string }> {
    return { baseCommit: 'b'.repeat(40), headCommit: 'b'.repeat(40) };
  }
  async capture(): Promise<null> {
    return null;
  }
}

/** Docker's multiplexed log framing: 8-byte header (stream 1 = stdout), then the payload. */
function framed(text: string | Buffer): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = 1;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Records each launch, and what the input directories held when the container was created. */
class RecordingEngine implements ContainerEngine {
  readonly launches: ContainerLaunch[] = [];
  readonly inputsAtCreate: Record<string, string>[] = [];
  readonly removed: string[] = [];
  readonly stops: { containerId: string; graceSeconds: number }[] = [];
  /** When set, a container runs until it is stopped, and ends killed (137). */
  runsUntilStopped = false;
  private markStopped!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.markStopped = resolve));

  /** What a container that is not stopped exits with. */
  exitCode = 0;
  /** What the agent leaves in /hub/output (written when its container is created), by path. */
  writes: Record<string, string> = {};

  /** Images the engine does not have. */
  missingImages = new Set<string>();
  async imageStatus(image: string): Promise<ImageStatus> {
    return this.missingImages.has(image) ? 'missing' : 'present';
  }
  async create(launch: ContainerLaunch): Promise<string> {
    this.launches.push(launch);
    const seen: Record<string, string> = {};
    for (const input of launch.inputs) seen[input.name] = await readFile(join(input.hostPath, 'plan.md'), 'utf8').catch(() => '');
    this.inputsAtCreate.push(seen);
    for (const [path, content] of Object.entries(this.writes)) await writeFile(join(launch.outputDir, path), content);
    const id = `container-${this.launches.length}`;
    this.states.set(id, 'created');
    return id;
  }
  /** Each session container's state, as listSessionContainers shows it. */
  readonly states = new Map<string, string>();
  async start(containerId: string): Promise<void> {
    this.states.set(containerId, 'running');
  }
  async wait(containerId: string): Promise<ContainerExit> {
    if (this.runsUntilStopped) await this.stopped;
    if (this.states.has(containerId)) this.states.set(containerId, 'exited');
    return { exitCode: this.runsUntilStopped ? 137 : this.exitCode, oomKilled: false };
  }
  async stop(containerId: string, graceSeconds: number): Promise<void> {
    this.stops.push({ containerId, graceSeconds });
    this.markStopped();
  }
  /** What the container prints. */
  printed: string | Buffer = 'done\n';
  async readLog(containerId: string): Promise<Buffer> {
    return Buffer.from(containerId.startsWith('helper-') ? this.helperPrints : this.printed);
  }
  async followLog(): Promise<NodeJS.ReadableStream> {
    return Readable.from([framed(this.printed)]);
  }
  async remove(containerId: string): Promise<void> {
    this.removed.push(containerId);
    this.states.delete(containerId);
  }
  async listSessionContainers(): Promise<SessionContainer[]> {
    return this.launches.flatMap((launch, i) => {
      const state = this.states.get(`container-${i + 1}`);
      if (!state) return [];
      const { sessionId, attempt, runnerId } = launch;
      return [{ containerId: `container-${i + 1}`, sessionId, attempt, runnerId, running: state === 'running', state }];
    });
  }
  async listHelperContainers(): Promise<HelperContainer[]> {
    return this.helpers.flatMap((helper, i) =>
      this.removed.includes(`helper-${i + 1}`)
        ? []
        : [{ containerId: `helper-${i + 1}`, createdAt: new Date(), purpose: helper.purpose, sessionId: helper.sessionId, labels: helper.labels }],
    );
  }
  async runHelper(): Promise<HelperExit> {
    throw new Error('no helper containers in these specs');
  }
  readonly helpers: SessionHelperLaunch[] = [];
  /** What a started helper (the egress bridge) prints. */
  helperPrints = 'N listening on AF=2 127.0.0.1:3128\n';
  async startHelper(launch: SessionHelperLaunch): Promise<string> {
    this.helpers.push(launch);
    return `helper-${this.helpers.length}`;
  }
  /** The networks the engine has (HUB_IMAGE_NETWORKS names them). */
  networks = ['none', 'host'];
  async networkExists(name: string): Promise<boolean> {
    return this.networks.includes(name);
  }
  async ping(): Promise<void> {}
}

function specOf(overrides: Partial<SessionSpec> = {}): SessionSpec {
  return {
    sessionId: SESSION,
    orchestrationId: '0f1e2d3c-4b5a-4697-8877-665544332211',
    name: 'coder',
    orchestrationName: 'pipeline',
    type: 'agent',
    prompt: 'cat /hub/inputs/planner/plan.md',
    context: null,
    egress: null,
    continueFrom: null,
    preamble: '',
    image: 'hub/test-agent:latest',
    repository: null,
    branch: null,
    timeoutSeconds: 60,
    attempt: 2,
    inputs: [],
    ...overrides,
  };
}

/** Holds the registry's answers to claims until the returned function is called. */
function delayClaims(registry: InMemoryRegistry): () => void {
  let answer: () => void = () => undefined;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  const call = registry.call.bind(registry);
  registry.call = (async (subject, request) => {
    await answered;
    return call(subject, request);
  }) as typeof registry.call;
  return () => answer();
}

function readyEvent(notBefore: string | null, image?: string, runnerLabels?: string[]): EventOf<'session.ready'> {
  return {
    id: 'e1',
    subject: 'session.ready',
    occurredAt: new Date().toISOString(),
    data: {
      sessionId: SESSION,
      orchestrationId: '0f1e2d3c-4b5a-4697-8877-665544332211',
      attempt: 2,
      notBefore,
      ...(image ? { image } : {}),
      ...(runnerLabels ? { runnerLabels } : {}),
    },
  };
}

async function eventually<T>(value: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = value();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('RunSession', () => {
  let dataDir: string;
  let outputs: InMemoryOutputs;
  let publisher: RecordingPublisher;
  let engine: RecordingEngine;
  let slots: RunnerSlots;
  let liveLogs: InMemoryLiveLogStream;
  let ledger: SessionLedger;
  let pacing: ImagePacing;
  let heartbeats: InMemoryHeartbeats;
  let refusals: InMemoryImageRefusals;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hub-run-session-test-'));
    outputs = new InMemoryOutputs();
    publisher = new RecordingPublisher();
    engine = new RecordingEngine();
    slots = new RunnerSlots(1);
    liveLogs = new InMemoryLiveLogStream();
    pacing = new ImagePacing([]);
    heartbeats = new InMemoryHeartbeats();
    refusals = new InMemoryImageRefusals();
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  /** What the last runSession() was made of, for SettleOnShutdown. */
  let made: { settings: RunnerSettings; logger: ReturnType<typeof createLogger> };

  function runSession(registry: InMemoryRegistry, overrides: Partial<RunnerSettings> = {}): RunSession {
    const settings: RunnerSettings = {
      runnerId: 'runner-test',
      dataDir,
      containerUser: `${process.getuid?.() ?? 1000}:${process.getgid?.() ?? 1000}`,
      limits: { memoryBytes: 64 * 1024 * 1024, nanoCpus: 500_000_000, pids: 64 },
      stopGraceSeconds: 1,
      outputLimits: { maxFiles: 10, maxTotalBytes: 1024 * 1024 },
      logCapBytes: 1024,
      gitHelperImage: 'hub/test-agent:latest',
      repositoryRewrites: [],
      outputQuotaBytes: 64 * 1024 * 1024,
      expectedImages: [],
      secrets: new RunnerSecrets({}, []),
      imageEnvironment: new ImageEnvironment(''),
      localRepositoryRoots: [],
      networks: new NetworkPolicy(''),
      egress: { policy: new EgressPolicy('none'), resolve: new Map(), bridgeImage: 'hub/egress-bridge:latest' },
      reconcileIntervalMs: 30_000,
      ...overrides,
    };
    const logger = createLogger('run-session-test', 'silent');
    made = { settings, logger };
    ledger = new SessionLedger();
    const files = new AttemptFiles(settings);
    const reporter = new ExitReporter(publisher as unknown as EventPublisher, ledger, settings);
    const store = outputs as unknown as OutputStore;
    const workspaces = new InMemoryWorkspaces() as unknown as GitWorkspaces;
    const live = new LiveLogs(liveLogs as unknown as LiveLogStream, { maxBytes: 1024 * 1024, maxAgeMs: 60_000 }, logger);
    const watcher = new WatchContainer(reporter, new AttemptOutputs(store, settings), files, workspaces, live, engine, settings, logger);
    return new RunSession(
      registry as unknown as RpcClient,
      slots,
      pacing,
      new ImagePolicy('hub/*'),
      new SessionPlacement(
        new LiveRunners(heartbeats as unknown as RunnerHeartbeats, settings),
        refusals as unknown as ImageRefusals,
        engine,
        settings,
      ),
      ledger,
      files,
      new InputFetcher(store),
      workspaces,
      watcher,
      reporter,
      live,
      new SessionEgress(new EgressProxy({ overrides: new Map(), logger }), engine, settings),
      engine,
      settings,
      logger,
    );
  }

  const sessionDir = () => join(dataDir, 'sessions', SESSION);
  const attemptDir = () => join(sessionDir(), 'attempt-2');
  /** The attempt is over once its slot is free: reported, container removed, files discarded. */
  const settled = () => eventually(() => (slots.used === 0 ? true : undefined));

  it('hands back a retry still backing off, without claiming it or holding a slot', async () => {
    const registry = new InMemoryRegistry(specOf());
    const notBefore = new Date(Date.now() + 5_000).toISOString();

    const deferred = await runSession(registry).onReady(readyEvent(notBefore)).catch((error: unknown) => error);

    expect(deferred).toBeInstanceOf(DeferredDelivery);
    expect((deferred as DeferredDelivery).delayMs).toBeGreaterThan(4_000);
    expect((deferred as DeferredDelivery).delayMs).toBeLessThanOrEqual(5_000);
    expect(slots.used).toBe(0);
    expect(registry.claims).toBe(0);
  });

  describe('runner labels', () => {
    it('hands a session requiring labels it lacks back for a live runner that has them, without claiming it or taking a slot', async () => {
      const registry = new InMemoryRegistry(specOf());
      heartbeats.runners.set('runner-gpu', ['gpu', 'large']);
      heartbeats.runners.set('runner-test', []);

      const deferred = await runSession(registry).onReady(readyEvent(null, 'hub/test-agent:latest', ['gpu'])).catch((error: unknown) => error);

      expect(deferred).toBeInstanceOf(DeferredDelivery);
      expect((deferred as DeferredDelivery).delayMs).toBe(1_000);
      expect((deferred as DeferredDelivery).message).toMatch(/needs runner labels gpu; this runner has none; handed back for runner-gpu$/);
      expect(slots.used).toBe(0);
      expect(registry.claims).toBe(0);
    });

    it('looks again later when no live runner has them, saying so', async () => {
      heartbeats.runners.set('runner-large', ['large']);

      const deferred = await runSession(new InMemoryRegistry(specOf())).onReady(readyEvent(null, undefined, ['gpu'])).catch((error: unknown) => error);

      expect((deferred as DeferredDelivery).delayMs).toBe(5_000);
      expect((deferred as DeferredDelivery).message).toMatch(
        /waiting for a runner with labels gpu: no live runner has them \(runners: runner-large \[large\], runner-test \[\]\)$/,
      );
    });

    it('claims and runs a session whose every label it has', async () => {
      const registry = new InMemoryRegistry(specOf());

      await runSession(registry, { labels: ['gpu', 'large'] }).onReady(readyEvent(null, 'hub/test-agent:latest', ['gpu']));

      expect(registry.claims).toBe(1);
      expect((await eventually(() => publisher.exited())).cause).toBe('exited');
    });
  });

  describe('an image missing on this runner', () => {
    const IMAGE = 'hub/test-agent:only-b';

    it('is handed back while a live runner has not refused it, its refusal recorded, without a claim or a slot', async () => {
      engine.missingImages.add(IMAGE);
      heartbeats.runners.set('runner-b', []);
      const registry = new InMemoryRegistry(specOf({ image: IMAGE }));

      const deferred = await runSession(registry).onReady(readyEvent(null, IMAGE)).catch((error: unknown) => error);

      expect((deferred as DeferredDelivery).delayMs).toBe(1_000);
      expect((deferred as DeferredDelivery).message).toMatch(/image hub\/test-agent:only-b is not on this runner's Docker engine; handed back for runner-b$/);
      expect(refusals.refused.get(`${SESSION}.2`)).toEqual(['runner-test']);
      expect(registry.claims).toBe(0);
      expect(slots.used).toBe(0);
    });

    it('fails the session, naming the runners, once every live runner that may take it refused it', async () => {
      engine.missingImages.add(IMAGE);
      heartbeats.runners.set('runner-b', ['large']);
      // A runner without the session's labels cannot take it: its refusal is not waited for.
      heartbeats.runners.set('runner-small', []);
      refusals.refused.set(`${SESSION}.2`, ['runner-b']);
      const registry = new InMemoryRegistry(specOf({ image: IMAGE }));

      await runSession(registry, { labels: ['large'] }).onReady(readyEvent(null, IMAGE, ['large']));

      const exited = await eventually(() => publisher.exited());
      expect(registry.claims).toBe(1);
      expect(exited.cause).toBe('image_not_found');
      expect(exited.detail).toMatch(/^image hub\/test-agent:only-b is on no runner: refused by runner-b, runner-test; /);
      expect(engine.launches).toEqual([]);
      await settled();
    });
  });

  it('runs a retry whose backoff is over', async () => {
    const registry = new InMemoryRegistry(specOf());

    await runSession(registry).onReady(readyEvent(new Date(Date.now() - 1_000).toISOString()));

    expect(registry.claims).toBe(1);
    expect((await eventually(() => publisher.exited())).cause).toBe('exited');
  });

  it('publishes what the container prints live, then its end; an attempt that never started ends its live log too', async () => {
    engine.printed = 'one\ntwo\n';
    await runSession(new InMemoryRegistry(specOf())).onReady(readyEvent(null));
    await eventually(() => publisher.exited());
    expect(liveLogs.of(SESSION, 2)).toEqual({ output: 'one\ntwo\n', ended: true });
    await settled();

    publisher.published.length = 0;
    await runSession(new InMemoryRegistry(specOf({ attempt: 3, image: 'other/agent:latest' }))).onReady(readyEvent(null));
    expect((await eventually(() => publisher.exited())).cause).toBe('image_not_allowed');
    expect(await eventually(() => (liveLogs.of(SESSION, 3).ended ? liveLogs.of(SESSION, 3) : undefined))).toEqual({ output: '', ended: true });
  });

  it("mounts each dependency's outputs and lists them in HUB_INPUTS, then removes the attempt's files with the container", async () => {
    const spec = specOf({
      inputs: [
        { name: 'planner', sessionId: PLANNER },
        { name: 'coder', sessionId: CODER },
      ],
    });
    outputs.put(PLANNER, 'plan.md', '# plan\n');
    outputs.put(CODER, 'src/main.ts', 'main()\n');

    await runSession(new InMemoryRegistry(spec)).onReady(readyEvent(null));
    const exited = await eventually(() => publisher.exited());
    await settled();

    expect(exited.cause).toBe('exited');
    const [launch] = engine.launches;
    expect(launch.inputs).toEqual([
      { name: 'planner', hostPath: join(attemptDir(), 'inputs', 'planner') },
      { name: 'coder', hostPath: join(attemptDir(), 'inputs', 'coder') },
    ]);
    expect(launch.env).toMatchObject({
      HUB_INPUTS: '/hub/inputs/planner /hub/inputs/coder',
      HUB_SESSION_ID: SESSION,
      HUB_ATTEMPT: '2',
    });
    expect(engine.inputsAtCreate).toEqual([{ planner: '# plan\n', coder: '' }]);
    expect(engine.removed).toEqual(['container-1']);
    // Inputs and outputs are copies of the object store's: the session leaves nothing on disk.
    await expect(stat(sessionDir())).rejects.toMatchObject({ code: 'ENOENT' });
    expect(slots.used).toBe(0);
  });

  it('gives the container its image’s settings (HUB_IMAGE_ENV) and the secrets it is granted, the runner’s own variables last', async () => {
    await runSession(new InMemoryRegistry(specOf()), {
      imageEnvironment: new ImageEnvironment('hub/*=ANTHROPIC_BASE_URL=http://api.anthropic.com:80;other/*=LANG=C'),
      secrets: new RunnerSecrets({ ANTHROPIC_API_KEY: 'sk-ant-test' }, [{ imagePattern: 'hub/*', names: ['ANTHROPIC_API_KEY'] }]),
    }).onReady(readyEvent(null));
    await eventually(() => publisher.exited());

    const { env } = engine.launches[0];
    expect(env).toMatchObject({ ANTHROPIC_BASE_URL: 'http://api.anthropic.com:80', ANTHROPIC_API_KEY: 'sk-ant-test', HUB_SESSION_ID: SESSION });
    expect(env).not.toHaveProperty('LANG');
  });

  it('sets HUB_INPUTS empty when the session has no dependencies', async () => {
    await runSession(new InMemoryRegistry(specOf())).onReady(readyEvent(null));
    await eventually(() => publisher.exited());

    expect(engine.launches[0].inputs).toEqual([]);
    expect(engine.launches[0].env['HUB_INPUTS']).toBe('');
  });

  it('waits out an object store that is briefly unreachable (NATS restarting): inputs fetched, the real exit reported with its log', async () => {
    const spec = specOf({ inputs: [{ name: 'planner', sessionId: PLANNER }] });
    outputs.put(PLANNER, 'plan.md', '# plan\n');
    outputs.unreachableFor = 2; // the input fetch fails twice
    await runSession(new InMemoryRegistry(spec)).onReady(readyEvent(null));
    await eventually(() => (engine.launches.length ? true : undefined));
    outputs.unreachableFor = 2; // then storing the log fails twice

    const exited = await eventually(() => publisher.exited());

    expect(exited).toMatchObject({ cause: 'exited', exitCode: 0, containerId: 'container-1' });
    expect(engine.inputsAtCreate).toEqual([{ planner: '# plan\n' }]);
    expect(outputs.stored).toEqual([`${SESSION}/logs/2`]);
    expect(outputs.manifestOf(SESSION)).toEqual({ sessionId: SESSION, attempt: 2, files: [], skipped: [], skippedCount: 0 });
  });

  it('holds a session while its claim is on its way, and remembers the attempts it reported', async () => {
    const registry = new InMemoryRegistry(specOf());
    const answer = delayClaims(registry);
    const runner = runSession(registry);

    const claimed = runner.onReady(readyEvent(null));
    expect(ledger.holds(SESSION)).toBe(true);
    answer();
    await claimed;
    await eventually(() => publisher.exited());
    await settled();

    expect(ledger.holds(SESSION)).toBe(false);
    expect(ledger.hasReported(SESSION, 2)).toBe(true);
    expect(ledger.hasReported(SESSION, 1)).toBe(false);
  });

  it('does not hold a session whose claim got no answer (reconciliation reports it lost)', async () => {
    const registry = new InMemoryRegistry(specOf());
    registry.call = (async () => {
      throw new Error('session-registry did not answer hub.registry.sessions.claim within 10000 ms');
    }) as typeof registry.call;
    const runner = runSession(registry);

    await expect(runner.onReady(readyEvent(null))).rejects.toThrow(/did not answer/);

    expect(ledger.holds(SESSION)).toBe(false);
    expect(slots.used).toBe(0);
  });

  it('reports the exit before it removes the container, so a runner that dies in between loses no outcome', async () => {
    const order: string[] = [];
    const publish = publisher.publish.bind(publisher);
    publisher.publish = async (subject, data) => {
      order.push(subject);
      await publish(subject, data);
    };
    const remove = engine.remove.bind(engine);
    engine.remove = async (containerId) => {
      order.push(`remove ${containerId}`);
      await remove(containerId);
    };

    await runSession(new InMemoryRegistry(specOf())).onReady(readyEvent(null));
    await eventually(() => publisher.exited());
    await settled();

    expect(order).toEqual(['container.started', 'container.exited', 'remove container-1']);
  });

  it('fails the start, naming the dependency and the file, when an input is missing from the object store', async () => {
    const spec = specOf({ inputs: [{ name: 'planner', sessionId: PLANNER }] });
    outputs.list(PLANNER, [{ path: 'plan.md', size: 7, sha256: 'a'.repeat(64) }]);

    await runSession(new InMemoryRegistry(spec)).onReady(readyEvent(null));
    const exited = await eventually(() => publisher.exited());
    await settled();

    expect(exited).toMatchObject({ cause: 'start_failed', containerId: null, attempt: 2 });
    expect(exited.detail).toBe(`input planner: file "plan.md" of dependency session ${PLANNER} is missing from the object store`);
    expect(engine.launches).toEqual([]);
    await expect(stat(sessionDir())).rejects.toMatchObject({ code: 'ENOENT' });
    expect(slots.used).toBe(0);
  });

  it('gives the prompt as a file mounted at /hub/prompt, and in HUB_PROMPT only when it is short', async () => {
    const long = `echo long\n# ${'x'.repeat(40 * 1024)}`;
    await runSession(new InMemoryRegistry(specOf({ prompt: long }))).onReady(readyEvent(null));
    await eventually(() => (engine.launches.length ? true : undefined));
    const [launch] = engine.launches;
    expect(launch.promptFile).toBe(join(attemptDir(), 'prompt'));
    expect(await readFile(launch.promptFile, 'utf8').catch(() => 'already removed')).toMatch(/^(echo long|already removed)/);
    expect(launch.env['HUB_PROMPT_FILE']).toBe('/hub/prompt');
    expect(launch.env['HUB_PROMPT']).toBeUndefined();
    await settled();

    engine.launches.length = 0;
    publisher.published.length = 0;
    await runSession(new InMemoryRegistry(specOf({ prompt: 'echo short' }))).onReady(readyEvent(null));
    await eventually(() => publisher.exited());
    expect(engine.launches[0].env['HUB_PROMPT']).toBe('echo short');
  });

  it('gives the context apart from the prompt, as a file mounted at /hub/context, and only when the session has one', async () => {
    await runSession(new InMemoryRegistry(specOf({ prompt: 'cat "$HUB_CONTEXT_FILE"', context: 'the API is v2' }))).onReady(readyEvent(null));
    await eventually(() => (engine.launches.length ? true : undefined));
    const [launch] = engine.launches;
    expect(launch.contextFile).toBe(join(attemptDir(), 'context'));
    expect(await readFile(launch.contextFile!, 'utf8').catch(() => 'already removed')).toMatch(/^(the API is v2|already removed)$/);
    expect(launch.env['HUB_CONTEXT_FILE']).toBe('/hub/context');
    expect(launch.env['HUB_PROMPT']).toBe('cat "$HUB_CONTEXT_FILE"');
    await settled();

    engine.launches.length = 0;
    publisher.published.length = 0;
    await runSession(new InMemoryRegistry(specOf())).onReady(readyEvent(null));
    await eventually(() => publisher.exited());
    expect(engine.launches[0].contextFile).toBeNull();
    expect(engine.launches[0].env['HUB_CONTEXT_FILE']).toBeUndefined();
  });

  it("refuses an image outside its own allow-list, though the registry's let it through, without creating a container", async () => {
    await runSession(new InMemoryRegistry(specOf({ image: 'busybox:latest' }))).onReady(readyEvent(null));
    const exit = await eventually(() => publisher.exited());
    expect(exit).toMatchObject({ cause: 'image_not_allowed', containerId: null });
    expect(exit.detail).toContain("not on this runner's allow-list (HUB_ALLOWED_IMAGES=hub/*)");
    expect(engine.launches).toEqual([]);
  });

  it('keeps the first logCapBytes of the log, and reports how much it dropped and why', async () => {
    engine.printed = `${'x'.repeat(3000)}\nlast words\n`;

    await runSession(new InMemoryRegistry(specOf())).onReady(readyEvent(null));
    const exited = await eventually(() => publisher.exited());

    expect(exited).toMatchObject({ cause: 'exited', exitCode: 0, logBytes: 1024, logDroppedBytes: 3012 - 1024 });
    expect(exited.detail).toBe('log truncated: kept the first 1.0 KiB, dropped 1.9 KiB over the log cap (HUB_LOG_CAP_MB)');
    expect(outputs.logOf(SESSION, 2)).toBe('x'.repeat(1024));
    // The live log shows what is kept, no more.
    expect(liveLogs.of(SESSION, 2)).toEqual({ output: 'x'.repeat(1024), ended: true });
  });

  it('honours a cancel that arrives while its claim is on its way: no container is created', async () => {
    const registry = new InMemoryRegistry(specOf());
    const answer = delayClaims(registry);
    const runner = runSession(registry);

    const claimed = runner.onReady(readyEvent(null));
    await runner.onCancelRequested({
      id: 'c1',
      subject: 'session.cancel-requested',
      occurredAt: new Date().toISOString(),
      data: { sessionId: SESSION, runnerId: 'runner-test' },
    });
    answer();
    await claimed;
    const exited = await eventually(() => publisher.exited());

    expect(exited).toMatchObject({ cause: 'cancelled', containerId: null });
    expect(engine.launches).toEqual([]);
  });

  it('cancels a running container by asking the engine for SIGTERM, then SIGKILL after HUB_STOP_GRACE_SECONDS', async () => {
    engine.runsUntilStopped = true;
    const runner = runSession(new InMemoryRegistry(specOf()), { stopGraceSeconds: 7 });
    await runner.onReady(readyEvent(null));
    const containerId = await eventually(() => ledger.get(SESSION)?.containerId ?? undefined);

    await runner.onCancelRequested({
      id: 'c1',
      subject: 'session.cancel-requested',
      occurredAt: new Date().toISOString(),
      data: { sessionId: SESSION, runnerId: 'runner-test' },
    });
    const exited = await eventually(() => publisher.exited());

    // The engine's stop is SIGTERM, then SIGKILL after the grace (DockerContainerEngine: docker stop -t).
    expect(engine.stops).toEqual([{ containerId, graceSeconds: 7 }]);
    expect(exited).toMatchObject({ cause: 'cancelled', containerId, exitCode: 137 });
  });

  describe('egress', () => {
    const egress = (policy: string) => ({ egress: { policy: new EgressPolicy(policy), resolve: new Map(), bridgeImage: 'hub/egress-bridge:latest' } });

    it('runs a session its image may reach nothing from exactly as before: network none, no bridge, no proxy', async () => {
      await runSession(new InMemoryRegistry(specOf()), egress('hub/claude-code*=api.anthropic.com')).onReady(readyEvent(null));
      const exited = await eventually(() => publisher.exited());
      await settled();

      expect(engine.launches[0].network).toBe('none');
      expect(engine.launches[0].env).not.toHaveProperty('HTTPS_PROXY');
      expect(engine.helpers).toEqual([]);
      expect(exited).not.toHaveProperty('egress');
    });

    it("starts a bridge for a session allowed a destination: its container shares the bridge's loopback, with the proxy settings; the bridge goes after it", async () => {
      await runSession(new InMemoryRegistry(specOf({ egress: ['api.test.invalid:80'] })), egress('hub/*=api.test.invalid:*,registry.npmjs.org')).onReady(
        readyEvent(null),
      );
      const exited = await eventually(() => publisher.exited());
      await settled();

      const [bridge] = engine.helpers;
      expect(bridge).toMatchObject({
        purpose: 'egress-bridge',
        sessionId: SESSION,
        image: 'hub/egress-bridge:latest',
        labels: { 'hub.egress': 'api.test.invalid:80' },
        mounts: [{ hostPath: join(sessionDir(), 'egress'), containerPath: '/hub/egress', readOnly: true }],
      });
      expect(bridge.command.join(' ')).toContain('UNIX-CONNECT:/hub/egress/proxy.sock');
      const [launch] = engine.launches;
      expect(launch.network).toBe('container:helper-1');
      expect(launch.env).toMatchObject({ HTTPS_PROXY: 'http://127.0.0.1:3128', http_proxy: 'http://127.0.0.1:3128', NO_PROXY: 'localhost,127.0.0.1' });
      // The agent's container first (it lives in the bridge's network namespace), then the bridge.
      expect(engine.removed).toEqual(['container-1', 'helper-1']);
      expect(exited.egress).toEqual({ destinations: [], others: null });
      await expect(stat(sessionDir())).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('fails a session whose bridge image is missing, naming how to build it, and starts no container', async () => {
      engine.missingImages.add('hub/egress-bridge:latest');
      await runSession(new InMemoryRegistry(specOf()), egress('hub/*=api.test.invalid')).onReady(readyEvent(null));
      const exited = await eventually(() => publisher.exited());

      expect(exited.cause).toBe('start_failed');
      expect(exited.detail).toContain('bash images/egress-bridge/build.sh');
      expect(engine.launches).toEqual([]);
    });

    it('fails a session given a bridge network on an engine without one, naming the cause and HUB_EGRESS', async () => {
      await runSession(new InMemoryRegistry(specOf()), { networks: new NetworkPolicy('hub/*=bridge') }).onReady(readyEvent(null));
      const exited = await eventually(() => publisher.exited());

      expect(exited.cause).toBe('start_failed');
      expect(exited.detail).toBe(
        "HUB_IMAGE_NETWORKS gives hub/test-agent:latest the network bridge, but this Docker engine has no bridge network (dockerd --bridge=none): use HUB_EGRESS to allow destinations through Hub's proxy instead",
      );
      expect(engine.launches).toEqual([]);
    });
  });

  describe('usage and pacing', () => {
    const IMAGE = 'hub/test-agent:latest';
    const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

    it("reports the usage the agent left in usage.json, whatever the outcome", async () => {
      engine.writes = { 'usage.json': JSON.stringify({ tokens: { input: 100, output: 20 }, costUsd: 0.01 }) };

      await runSession(new InMemoryRegistry(specOf())).onReady(readyEvent(null));
      const exited = await eventually(() => publisher.exited());

      expect(exited).toMatchObject({
        cause: 'exited',
        usage: { tokens: { input: 100, output: 20, cacheRead: 0, cacheWrite: 0, total: 120 }, costUsd: 0.01 },
        rateLimit: null,
      });
    });

    it('reports no usage, and the same outcome, for a usage.json that is not a report', async () => {
      engine.writes = { 'usage.json': '{"tokens": {"input": -5}}' };

      await runSession(new InMemoryRegistry(specOf())).onReady(readyEvent(null));
      const exited = await eventually(() => publisher.exited());

      expect(exited).toMatchObject({ cause: 'exited', exitCode: 0, usage: null, rateLimit: null, detail: null });
    });

    it('hands back a session whose image is paused, before it takes a slot or claims it', async () => {
      const registry = new InMemoryRegistry(specOf());
      pacing.pauseUntil(IMAGE, inAnHour(), 'usage limit reached');

      const deferred = await runSession(registry).onReady(readyEvent(null, IMAGE)).catch((error: unknown) => error);

      expect(deferred).toBeInstanceOf(DeferredDelivery);
      expect((deferred as DeferredDelivery).delayMs).toBeGreaterThan(3_590_000);
      expect((deferred as DeferredDelivery).message).toMatch(/hub\/test-agent:latest is paused until .*: usage limit reached$/);
      expect(slots.used).toBe(0);
      expect(registry.claims).toBe(0);
      expect(ledger.holds(SESSION)).toBe(false);
    });

    it('paces only by the image the event names: one without an image is claimed', async () => {
      const registry = new InMemoryRegistry(specOf());
      pacing.pauseUntil(IMAGE, inAnHour(), 'usage limit reached');

      await runSession(registry).onReady(readyEvent(null));

      expect(registry.claims).toBe(1);
      expect((await eventually(() => publisher.exited())).cause).toBe('exited');
    });

    it("counts a session in its image's concurrency from its claim to the end of its attempt", async () => {
      pacing = new ImagePacing(parseImagePacing('hub/test-*=concurrent:1'));
      engine.runsUntilStopped = true;
      slots = new RunnerSlots(2);
      const runner = runSession(new InMemoryRegistry(specOf()));
      await runner.onReady(readyEvent(null, IMAGE));
      await eventually(() => ledger.get(SESSION)?.containerId ?? undefined);

      const deferred = await runner.onReady(readyEvent(null, 'hub/test-agent:2')).catch((error: unknown) => error);
      expect(deferred).toBeInstanceOf(DeferredDelivery);
      expect((deferred as DeferredDelivery).message).toContain('hub/test-* has 1 sessions running on this runner');

      await runner.onCancelRequested({
        id: 'c1',
        subject: 'session.cancel-requested',
        occurredAt: new Date().toISOString(),
        data: { sessionId: SESSION, runnerId: 'runner-test' },
      });
      await settled();
      expect(pacing.delayFor(IMAGE)).toBeNull();
    });

    it("pauses the image when its agent failed on a rate limit, and reports when it resets", async () => {
      const resetAt = new Date(Date.now() + 600_000).toISOString();
      engine.exitCode = 1;
      engine.writes = { 'usage.json': JSON.stringify({ tokens: { input: 3 }, rateLimit: { resetAt, message: '5-hour limit reached' } }) };

      await runSession(new InMemoryRegistry(specOf())).onReady(readyEvent(null, IMAGE));
      const exited = await eventually(() => publisher.exited());
      await settled();

      expect(exited).toMatchObject({ cause: 'exited', exitCode: 1, usage: { tokens: { total: 3 } }, rateLimit: { resetAt, message: '5-hour limit reached' } });
      expect(pacing.activePauses()).toEqual([{ group: IMAGE, until: resetAt, why: '5-hour limit reached' }]);
      await expect(runSession(new InMemoryRegistry(specOf())).onReady(readyEvent(null, IMAGE))).rejects.toBeInstanceOf(DeferredDelivery);
    });

    it('does not pause the image when the agent reports a rate limit but succeeded', async () => {
      engine.writes = { 'usage.json': JSON.stringify({ rateLimit: { retryAfterSeconds: 600 } }) };

      await runSession(new InMemoryRegistry(specOf())).onReady(readyEvent(null, IMAGE));
      const exited = await eventually(() => publisher.exited());
      await settled();

      expect(exited.rateLimit).toBeNull();
      expect(pacing.activePauses()).toEqual([]);
    });
  });

  describe('when the runner stops (SettleOnShutdown)', () => {
    const withEgress = { egress: { policy: new EgressPolicy('hub/*=api.test.invalid:*'), resolve: new Map(), bridgeImage: 'hub/egress-bridge:latest' } };
    const settleOf = (runner: RunSession) => new SettleOnShutdown(runner, ledger, engine, made.settings, made.logger);

    /** container.exited is published only once release() is called: the attempt is caught between its exit and its report. */
    function holdReports(): () => void {
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      const publish = publisher.publish.bind(publisher);
      publisher.publish = async (subject, data) => {
        if (subject === 'container.exited') await released;
        await publish(subject, data);
      };
      return release;
    }

    it('finishes an attempt whose container exited before it goes: reported, its container and its bridge removed', async () => {
      const release = holdReports();
      const runner = runSession(new InMemoryRegistry(specOf()), withEgress);
      await runner.onReady(readyEvent(null));
      await eventually(() => (ledger.get(SESSION)?.containerExited ? true : undefined));

      let gone = false;
      const settling = settleOf(runner).settle(5_000).then(() => (gone = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(gone).toBe(false); // it waits for the report
      release();
      await settling;

      expect(publisher.exited()).toMatchObject({ cause: 'exited', exitCode: 0 });
      expect(engine.removed).toEqual(['container-1', 'helper-1']);
      expect(ledger.holds(SESSION)).toBe(false);
      expect(slots.used).toBe(0);
    });

    it('waits no longer than it was given: past it, the stopped container stays for the runner to collect when back, its bridge is removed', async () => {
      const release = holdReports(); // not before the runner is gone
      const runner = runSession(new InMemoryRegistry(specOf()), withEgress);
      await runner.onReady(readyEvent(null));
      await eventually(() => (ledger.get(SESSION)?.containerExited ? true : undefined));

      const began = Date.now();
      await settleOf(runner).settle(400);

      expect(Date.now() - began).toBeLessThan(2_000);
      expect(publisher.exited()).toBeUndefined();
      expect(engine.removed).toEqual(['helper-1']);
      release();
      await settled();
    });

    it('leaves a running container and its bridge for adoption, and does not wait for it', async () => {
      engine.runsUntilStopped = true;
      const runner = runSession(new InMemoryRegistry(specOf()), withEgress);
      await runner.onReady(readyEvent(null));
      await eventually(() => publisher.published.find((e) => e.subject === 'container.started'));

      const began = Date.now();
      await settleOf(runner).settle(5_000);

      expect(Date.now() - began).toBeLessThan(1_000);
      expect(engine.stops).toEqual([]);
      expect(engine.removed).toEqual([]);
      expect(publisher.exited()).toBeUndefined();
      expect(ledger.holds(SESSION)).toBe(true);
      await engine.stop('container-1', 0);
      await settled();
    });

    it('starts no container once it is stopping: the attempt ends container_lost, to be run again', async () => {
      const runner = runSession(new InMemoryRegistry(specOf()), withEgress);
      await settleOf(runner).settle(1_000);

      await runner.onReady(readyEvent(null));
      const exited = await eventually(() => publisher.exited());
      await settled();

      expect(exited).toMatchObject({ cause: 'container_lost', containerId: null, detail: 'the runner stopped before its container was created' });
      expect(engine.launches).toEqual([]);
      expect(engine.helpers).toEqual([]);
    });
  });
});
