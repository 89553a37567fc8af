import { createHash } from 'node:crypto';
import { chown, mkdir, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { ContainerExitCause, EventOf, EventPayload, RPC, SessionSpec } from '@hub/contracts';
import { DeferredDelivery, EventPublisher, OutputStore, RpcClient } from '@hub/messaging';
import { HubLogger } from '@hub/config';
import { materialiseInputs } from '../inputs/materialise-inputs';
import { CollectedFile, collectOutput } from '../output/collect-output';
import { CONTAINER_INPUTS_DIR, CONTAINER_REPOSITORY_DIR, ContainerEngine } from '../ports/container-engine.port';
import { CONTAINER_ENGINE, RUNNER_LOGGER, RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { RunnerSlots } from '../slots/runner-slots';
import { ImagePolicy } from './image-policy';

interface SessionInHand {
  spec: SessionSpec;
  containerId: string | null;
  /** Set when the runner itself stops the container: why it stopped. */
  stopCause: ContainerExitCause | null;
}

type ExitReport = Omit<EventPayload<'container.exited'>, 'sessionId' | 'attempt' | 'runnerId' | 'durationMs'>;

/**
 * How long the object store (JetStream) may stay unreachable, NATS restarting say, before fetching
 * an input or storing a log or output counts as a failure of the attempt.
 */
const OBJECT_STORE_PATIENCE_MS = 120_000;

/** How many reported attempts a runner remembers, so as not to call their sessions lost meanwhile. */
const REPORTS_REMEMBERED = 10_000;

/**
 * Runs ready sessions: claim, fetch the dependencies' outputs, create (hardened), start, watch with
 * the time limit, collect the log and output, remove the container, report. Every path ends in
 * `container.exited`, so no session is left waiting on a container that never came.
 */
@Injectable()
export class RunSession {
  private readonly inHand = new Map<string, SessionInHand>();
  /** Sessions whose claim is on its way: the registry may already count them as held by this runner. */
  private readonly claiming = new Set<string>();
  /** The last attempt of each session this runner reported the end of (the newest REPORTS_REMEMBERED). */
  private readonly reported = new Map<string, number>();

  constructor(
    private readonly rpc: RpcClient,
    private readonly publisher: EventPublisher,
    private readonly outputs: OutputStore,
    private readonly slots: RunnerSlots,
    private readonly policy: ImagePolicy,
    @Inject(CONTAINER_ENGINE) private readonly engine: ContainerEngine,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    @Inject(RUNNER_LOGGER) private readonly logger: HubLogger,
  ) {}

  /**
   * Takes a slot, claims the session and starts running it; returns once the claim is settled.
   * A retry still backing off is handed back until its notBefore, without holding a slot.
   */
  async onReady(event: EventOf<'session.ready'>): Promise<void> {
    const { sessionId, attempt, notBefore } = event.data;
    const waitMs = notBefore ? Date.parse(notBefore) - Date.now() : 0;
    if (waitMs > 0) {
      throw new DeferredDelivery(waitMs, `session ${sessionId} attempt ${attempt} may not start before ${notBefore}`);
    }
    this.slots.take();
    this.claiming.add(sessionId);
    try {
      let claim;
      try {
        claim = await this.rpc.call(RPC.claimSession, { sessionId, runnerId: this.settings.runnerId });
      } catch (error) {
        this.slots.release();
        throw error;
      }
      if (!claim.claimed || !claim.spec) {
        this.slots.release();
        this.logger.debug({ sessionId }, 'session not claimed: no longer ready');
        return;
      }
      void this.run(claim.spec).finally(() => this.slots.release());
    } finally {
      // run() has put the session in hand by now; a claim whose answer never came (NATS restarting)
      // is no longer held by anyone here, and reconciliation reports it lost.
      this.claiming.delete(sessionId);
    }
  }

  /** Stops the container of a session this runner holds; the exit is then reported as cancelled. */
  async onCancelRequested(event: EventOf<'session.cancel-requested'>): Promise<void> {
    const session = this.inHand.get(event.data.sessionId);
    if (!session) return;
    this.logger.info({ sessionId: session.spec.sessionId, containerId: session.containerId }, 'cancelling session');
    await this.stop(session, 'cancelled', this.settings.stopGraceSeconds);
  }

  /** Sessions this runner is running now. */
  get sessionsInHand(): number {
    return this.inHand.size;
  }

  private run(spec: SessionSpec): Promise<void> {
    return this.hold(spec, (session, log) => this.runContainer(session, log));
  }

  /**
   * Takes over the container of a session this runner held before it restarted: watches it if it
   * still runs (its time limit counted from when it started), or collects it if it exited meanwhile,
   * and reports its real exit code. Nothing is started again.
   */
  adopt(spec: SessionSpec, containerId: string, startedAt: Date | null): Promise<void> {
    this.slots.take();
    return this.hold(spec, async (session, log) => {
      session.containerId = containerId;
      log.info({ containerId }, 'adopting container');
      const elapsedMs = startedAt ? Date.now() - startedAt.getTime() : 0;
      return this.watch(session, containerId, this.outputDirOf(spec), spec.timeoutSeconds * 1000 - elapsedMs, log);
    }).finally(() => this.slots.release());
  }

  /** A session this runner held whose container is gone: it ends failed (container_lost), and may be retried. */
  async reportLost(spec: SessionSpec): Promise<void> {
    const log = this.logger.child({ sessionId: spec.sessionId, attempt: spec.attempt });
    log.warn('container lost: the session was held by this runner but its container no longer exists');
    await this.report(spec, exitWithoutContainer('container_lost', 'its container no longer exists on the runner'), 0, log);
  }

  /** Whether this runner is running that session now, or claiming it. */
  holds(sessionId: string): boolean {
    return this.inHand.has(sessionId) || this.claiming.has(sessionId);
  }

  /** Whether this runner has reported the end of that attempt (the registry may not have applied it yet). */
  hasReported(sessionId: string, attempt: number): boolean {
    return this.reported.get(sessionId) === attempt;
  }

  private async hold(spec: SessionSpec, body: (session: SessionInHand, log: HubLogger) => Promise<ExitReport>): Promise<void> {
    const startedAt = Date.now();
    const session: SessionInHand = { spec, containerId: null, stopCause: null };
    this.inHand.set(spec.sessionId, session);
    const log = this.logger.child({ sessionId: spec.sessionId, attempt: spec.attempt, image: spec.image });
    let report: ExitReport;
    try {
      report = await body(session, log);
    } catch (error) {
      const detail = (error as Error).message;
      log.error({ containerId: session.containerId, err: detail }, 'container could not be run');
      report = exitWithoutContainer('start_failed', detail, session.containerId);
    }
    try {
      // Reported first, removed after: a runner that dies in between leaves an exited container
      // that reconciliation removes as an orphan, never an outcome that is lost and run again.
      await this.report(spec, report, Date.now() - startedAt, log);
      if (session.containerId) {
        await this.engine.remove(session.containerId).catch((error) =>
          log.warn({ containerId: session.containerId, err: (error as Error).message }, 'could not remove the container; reconciliation will'),
        );
      }
      await this.discardAttemptDir(spec, log);
    } finally {
      this.inHand.delete(spec.sessionId);
    }
  }

  private async runContainer(session: SessionInHand, log: HubLogger): Promise<ExitReport> {
    const { spec } = session;
    if (!this.policy.allows(spec.image)) {
      return exitWithoutContainer(
        'image_not_allowed',
        `image ${spec.image} is not on this runner's allow-list (HUB_ALLOWED_IMAGES=${this.policy.allowList})`,
      );
    }
    if ((await this.engine.imageStatus(spec.image)) === 'missing') {
      return exitWithoutContainer(
        'image_not_found',
        `image ${spec.image} is not present on the runner's Docker engine; build or load it there first`,
      );
    }
    const outputDir = await this.prepareOutputDir(spec);
    const inputs = await materialiseInputs(spec.inputs, this.inputsDirOf(spec), {
      getFile: (sessionId, path) =>
        this.withObjectStore(log, `fetching input ${path} of session ${sessionId}`, () => this.outputs.getFile(sessionId, path)),
    });
    if (inputs.length) log.info({ inputs: inputs.map((input) => input.name) }, 'inputs fetched');
    const repositoryPath = await localRepositoryOf(spec, this.settings.localRepositoryRoots);
    const containerId = await this.engine.create({
      sessionId: spec.sessionId,
      attempt: spec.attempt,
      image: spec.image,
      env: this.environmentOf(spec),
      outputDir,
      inputs,
      repositoryPath,
      network: this.settings.networks.networkFor(spec.image),
      limits: this.settings.limits,
      user: this.settings.containerUser,
      runnerId: this.settings.runnerId,
    });
    session.containerId = containerId;
    log.info({ containerId }, 'container created');
    if (session.stopCause) {
      await this.engine.remove(containerId);
      return exitWithoutContainer(session.stopCause, 'stopped before its container started', containerId);
    }
    await this.engine.start(containerId);
    log.info({ containerId }, 'container started');
    return this.watch(session, containerId, outputDir, spec.timeoutSeconds * 1000, log);
  }

  /** From a started container to its report: time limit, wait, log and outputs (masked), removal. */
  private async watch(
    session: SessionInHand,
    containerId: string,
    outputDir: string,
    timeLeftMs: number,
    log: HubLogger,
  ): Promise<ExitReport> {
    const { spec } = session;
    await this.publishUntilSent(log, () =>
      this.publisher.publish(
        'container.started',
        {
          sessionId: spec.sessionId,
          attempt: spec.attempt,
          containerId,
          runnerId: this.settings.runnerId,
          startedAt: new Date().toISOString(),
        },
        `container.started:${spec.sessionId}:${spec.attempt}`,
      ),
    );
    const timer = setTimeout(() => void this.stop(session, 'timed_out', 0), Math.max(0, timeLeftMs));
    const exit = await this.engine.wait(containerId).finally(() => clearTimeout(timer));
    const secrets = this.settings.secrets;
    const logContent = secrets.mask(await this.engine.readLog(containerId));
    const collected = await collectOutput(outputDir, this.settings.outputLimits);
    const files = collected.files.map((file) => withContent(file, secrets.mask(file.content)));
    const skipped = collected.skipped;
    await this.withObjectStore(log, 'storing the log', () => this.outputs.putLog(spec.sessionId, logContent));
    for (const file of files) {
      await this.withObjectStore(log, `storing output ${file.path}`, () => this.outputs.putFile(spec.sessionId, file.path, file.content));
    }
    const cause = session.stopCause ?? 'exited';
    log.info(
      { containerId, exitCode: exit.exitCode, oomKilled: exit.oomKilled, cause, files: files.length },
      'container exited',
    );
    return {
      cause,
      exitCode: exit.exitCode,
      oomKilled: exit.oomKilled,
      containerId,
      detail: describeStop(cause, spec, skipped, exit.exitCode === 0 ? null : lastLine(logContent)),
      files: files.map(({ path, size, sha256 }) => ({ path, size, sha256 })),
      logBytes: logContent.length,
    };
  }

  private async stop(session: SessionInHand, cause: ContainerExitCause, graceSeconds: number): Promise<void> {
    if (session.stopCause) return;
    session.stopCause = cause;
    if (!session.containerId) return;
    this.logger.info({ sessionId: session.spec.sessionId, containerId: session.containerId, cause }, 'stopping container');
    await this.engine.stop(session.containerId, graceSeconds).catch((error) =>
      this.logger.warn({ containerId: session.containerId, err: (error as Error).message }, 'stop failed'),
    );
  }

  private async report(spec: SessionSpec, report: ExitReport, durationMs: number, log: HubLogger): Promise<void> {
    await this.publishUntilSent(log, () =>
      this.publisher.publish(
        'container.exited',
        { ...report, sessionId: spec.sessionId, attempt: spec.attempt, runnerId: this.settings.runnerId, durationMs },
        `container.exited:${spec.sessionId}:${spec.attempt}`,
      ),
    );
    this.reported.delete(spec.sessionId);
    this.reported.set(spec.sessionId, spec.attempt);
    if (this.reported.size > REPORTS_REMEMBERED) this.reported.delete(this.reported.keys().next().value!);
  }

  /** A fact the registry must learn: retried until JetStream has it (NATS may be restarting). */
  private async publishUntilSent(log: HubLogger, publish: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await publish();
      } catch (error) {
        const delay = Math.min(100 * 2 ** attempt, 5_000);
        log.warn({ err: (error as Error).message, retryInMs: delay }, 'publish failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /**
   * An object-store call, retried while NATS is unreachable (a restart takes seconds): the attempt
   * ran, and what it produced must not be lost to a blip. Gives up after OBJECT_STORE_PATIENCE_MS.
   */
  private async withObjectStore<T>(log: HubLogger, what: string, call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + OBJECT_STORE_PATIENCE_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (Date.now() >= deadline) throw error;
        const delay = Math.min(100 * 2 ** attempt, 5_000);
        log.warn({ err: (error as Error).message, retryInMs: delay }, `${what} failed; retrying`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private attemptDirOf(spec: SessionSpec): string {
    return join(this.settings.dataDir, 'sessions', spec.sessionId, `attempt-${spec.attempt}`);
  }

  private inputsDirOf(spec: SessionSpec): string {
    return join(this.attemptDirOf(spec), 'inputs');
  }

  /**
   * The attempt's inputs and outputs are copies of what the object store keeps (outputs were
   * uploaded, masked, before the report), so they go once the attempt is over: no unmasked secret
   * an agent wrote stays on the runner's disk.
   */
  private async discardAttemptDir(spec: SessionSpec, log: HubLogger): Promise<void> {
    await rm(this.attemptDirOf(spec), { recursive: true, force: true }).catch((error) =>
      log.warn({ err: (error as Error).message }, 'could not remove the attempt directory'),
    );
  }

  private outputDirOf(spec: SessionSpec): string {
    return join(this.attemptDirOf(spec), 'output');
  }

  private async prepareOutputDir(spec: SessionSpec): Promise<string> {
    const dir = this.outputDirOf(spec);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const [uid, gid] = this.settings.containerUser.split(':').map(Number);
    await chown(dir, uid, gid ?? uid);
    return dir;
  }

  private environmentOf(spec: SessionSpec): Record<string, string> {
    return {
      HUB_SESSION_ID: spec.sessionId,
      HUB_ORCHESTRATION_ID: spec.orchestrationId,
      HUB_SESSION_TYPE: spec.type,
      HUB_PROMPT: spec.prompt,
      HUB_ATTEMPT: String(spec.attempt),
      HUB_INPUTS: spec.inputs.map((input) => `${CONTAINER_INPUTS_DIR}/${input.name}`).join(' '),
      ...(spec.preamble ? { HUB_PROMPT_PREAMBLE: spec.preamble } : {}),
      ...(spec.repository ? { HUB_REPOSITORY: isLocalPath(spec.repository) ? CONTAINER_REPOSITORY_DIR : spec.repository } : {}),
      ...(spec.branch ? { HUB_BRANCH: spec.branch } : {}),
      ...this.settings.secrets.forImage(spec.image),
    };
  }
}

function exitWithoutContainer(cause: ContainerExitCause, detail: string, containerId: string | null = null): ExitReport {
  // The contract caps detail at 2000 characters; a longer one would never be published.
  return { cause, exitCode: null, oomKilled: false, containerId, detail: detail.slice(0, 2000), files: [], logBytes: 0 };
}

function describeStop(cause: ContainerExitCause, spec: SessionSpec, skipped: string[], lastLogLine: string | null): string | null {
  const parts: string[] = [];
  if (cause === 'exited' && lastLogLine) parts.push(`last log line: ${lastLogLine}`);
  if (cause === 'timed_out') parts.push(`${spec.timeoutSeconds}s`);
  if (skipped.length) parts.push(`output files not kept: ${skipped.slice(0, 10).join(', ')}`);
  return parts.length ? parts.join('; ').slice(0, 2000) : null;
}

/** The last non-empty line of a log, to say in the session's reason why it failed. */
function lastLine(log: Buffer): string | null {
  const tail = log.subarray(Math.max(0, log.length - 4096)).toString('utf8');
  const line = tail.split('\n').map((l) => l.trim()).filter(Boolean).pop();
  return line ? line.slice(0, 300) : null;
}

function withContent(file: CollectedFile, content: Buffer): CollectedFile {
  if (content === file.content) return file;
  return { path: file.path, content, size: content.length, sha256: createHash('sha256').update(content).digest('hex') };
}

const isLocalPath = (repository: string) => repository.startsWith('/') || repository.startsWith('file://');

/**
 * A repository given as a local path (a bare repository on the runner's host, say) is mounted
 * read-only; only under the roots the runner allows, so a session cannot mount any host path.
 */
async function localRepositoryOf(spec: SessionSpec, roots: string[]): Promise<string | undefined> {
  if (!spec.repository || !isLocalPath(spec.repository)) return undefined;
  const path = spec.repository.replace(/^file:\/\//, '');
  const real = await realpath(path).catch(() => {
    throw new Error(`repository ${path} does not exist on the runner`);
  });
  const allowed = await Promise.all(roots.map((root) => realpath(root).catch(() => null)));
  if (!allowed.some((root) => root && (real === root || real.startsWith(`${root}/`)))) {
    throw new Error(
      `repository ${path} is a local path outside the runner's HUB_LOCAL_REPOSITORY_ROOTS (${roots.join(', ') || 'none set'})`,
    );
  }
  return real;
}
