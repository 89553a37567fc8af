import { Inject, Injectable, Optional } from '@nestjs/common';
import { EventOf, HeldSession, RateLimit, RPC, SessionSpec } from '@hub/contracts';
import { DeferredDelivery, RpcClient } from '@hub/messaging';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { SessionEgress } from '../egress/session-egress';
import { InputFetcher } from '../inputs/input-fetcher';
import { LiveLogs } from '../logs/live-logs';
import { ImagePacing, PacingDelay } from '../pacing/image-pacing';
import { SessionPlacement } from '../placement/session-placement';
import { ContainerEngine, HelperContainer } from '../ports/container-engine.port';
import { CONTAINER_ENGINE, DEFAULT_CONTAINER_TMP_BYTES, RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { RunnerMetrics } from '../runner-metrics';
import { RunnerSlots } from '../slots/runner-slots';
import { AttemptFiles } from '../workspace/attempt-files';
import { GitWorkspaces } from '../workspace/git-workspaces';
import { MergeConflictError } from '../git/merge-changes';
import { containerEnvironment } from './container-environment';
import { ExitReport, ExitReporter, exitWithoutContainer } from './exit-reporter';
import { ImagePolicy, missingNetworkReason } from './image-policy';
import { SessionInHand, SessionLedger } from './session-ledger';
import { WatchContainer } from './watch-container.use-case';

/** Sessions whose deferral (pacing, placement) was logged at info (the later ones are at debug); forgotten past this many. */
const MAX_DEFERRED_REMEMBERED = 10_000;

/**
 * Runs ready sessions, one attempt at a time: claim, prepare the attempt's files (prompt, inputs),
 * create the hardened container, start it, watch it to its end, report, remove, clean up. Every
 * path ends in `container.exited`, so no session is left waiting on a container that never came,
 * and an error in one session fails that session, never the runner.
 */
@Injectable()
export class RunSession {
  private readonly deferred = new Set<string>();
  /** The runner is stopping: no container is created or started from now on. */
  private stopping = false;

  constructor(
    private readonly rpc: RpcClient,
    private readonly slots: RunnerSlots,
    private readonly pacing: ImagePacing,
    private readonly policy: ImagePolicy,
    private readonly placement: SessionPlacement,
    private readonly ledger: SessionLedger,
    private readonly files: AttemptFiles,
    private readonly inputs: InputFetcher,
    private readonly workspaces: GitWorkspaces,
    private readonly watcher: WatchContainer,
    private readonly reporter: ExitReporter,
    private readonly liveLogs: LiveLogs,
    private readonly egress: SessionEgress,
    @Inject(CONTAINER_ENGINE) private readonly engine: ContainerEngine,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
    @Optional() private readonly metrics: RunnerMetrics = new RunnerMetrics(slots),
  ) {}

  /**
   * Takes a slot, claims the session and starts running it; returns once the claim is settled.
   * A retry still backing off is handed back until its notBefore; a session this runner may not run
   * (it lacks a label the session requires, or its engine the image: SessionPlacement) for another
   * runner; and a session its image's pacing holds back (HUB_IMAGE_PACING, a rate limit) until it may
   * start; all without holding a slot. A session whose image no runner has is claimed and failed, naming them.
   */
  async onReady(event: EventOf<'session.ready'>): Promise<void> {
    const { sessionId, attempt, notBefore, image } = event.data;
    const waitMs = notBefore ? Date.parse(notBefore) - Date.now() : 0;
    if (waitMs > 0) {
      throw new DeferredDelivery(waitMs, `session ${sessionId} attempt ${attempt} may not start before ${notBefore}`);
    }
    // Decided at once when nothing need be asked, so that the claim starts in the same turn.
    const placement = this.placement.decideAtOnce(event) ?? (await this.placement.decide(event));
    if (placement.kind === 'defer') throw this.deferOnce('placement', sessionId, attempt, { image, runnerLabels: event.data.runnerLabels }, placement);
    const paced = image === undefined ? null : this.pacing.delayFor(image);
    if (paced) throw this.deferOnce('image pacing', sessionId, attempt, { image }, paced);
    this.deferred.delete(`${sessionId}:${attempt}`);
    this.slots.take();
    this.ledger.claimStarted(sessionId);
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
      const spec = claim.spec;
      // No runner that may take it has its image: it ends here, before any container, saying which refused it.
      const body =
        placement.kind === 'fail'
          ? async () => exitWithoutContainer('image_not_found', placement.reason)
          : (session: SessionInHand, log: HubLogger) => this.runAttempt(spec, session, log);
      void this.hold(spec.sessionId, spec.attempt, spec.image, undefined, body).finally(() => this.slots.release());
    } finally {
      // hold() has put the session in hand by now; a claim whose answer never came (NATS restarting)
      // is no longer held by anyone here, and reconciliation reports it lost.
      this.ledger.claimSettled(sessionId);
    }
  }

  /** Stops the container of a session this runner holds (or is claiming); its exit is then reported as cancelled. */
  async onCancelRequested(event: EventOf<'session.cancel-requested'>): Promise<void> {
    const { sessionId } = event.data;
    if (this.ledger.cancelWhileClaiming(sessionId)) {
      this.logger.info({ sessionId }, 'cancel arrived while claiming: the session is cancelled once claimed');
      return;
    }
    const session = this.ledger.get(sessionId);
    if (!session) return;
    this.logger.info({ sessionId, containerId: session.containerId }, 'cancelling session');
    await this.watcher.stop(session, 'cancelled', this.settings.stopGraceSeconds);
  }

  /**
   * Takes over the container of a session this runner held before it restarted: watches it if it
   * still runs (its time limit counted from when it started), or collects it if it exited meanwhile,
   * and reports its real exit code. A cancel asked for meanwhile is honoured. Nothing is started again.
   * A session with an egress bridge gets its proxy socket listened on again (its record starts afresh).
   */
  adopt(held: HeldSession, containerId: string, bridge: HelperContainer | null = null): Promise<void> {
    this.slots.take();
    const startedAt = held.startedAt ? Date.parse(held.startedAt) : undefined;
    return this.hold(held.sessionId, held.attempt, held.image, startedAt, async (session, log) => {
      session.containerId = containerId;
      log.info({ containerId, cancelRequested: held.cancelRequested, bridgeId: bridge?.containerId }, 'adopting container');
      if (bridge) {
        session.egress = await this.egress.reopen(held.sessionId, bridge, log).catch((error) => {
          log.warn({ err: (error as Error).message }, 'egress: the proxy socket could not be opened again; the session reaches nothing');
          return null;
        });
      }
      if (held.cancelRequested) void this.watcher.stop(session, 'cancelled', this.settings.stopGraceSeconds);
      // Its log is read again from the start: what was published live before is replaced, not repeated.
      await this.liveLogs.restart(held.sessionId, held.attempt, log);
      const elapsedMs = held.startedAt ? Date.now() - Date.parse(held.startedAt) : 0;
      return this.watcher.watch({
        session,
        containerId,
        // The container runs already: its log comes from Docker's log file (capped, so it may lack its start).
        logStream: await this.engine.followLog(containerId),
        paths: await this.files.prepareCapture(held.sessionId, held.attempt),
        timeoutSeconds: held.timeoutSeconds,
        timeLeftMs: held.timeoutSeconds * 1000 - elapsedMs,
        log,
        notes: session.egress?.notes,
      });
    }).finally(() => this.slots.release());
  }

  /**
   * The runner is stopping: an attempt not yet started creates and starts no container from now on;
   * it ends `container_lost` (run again, its retries unspent), as reconciliation would report it once
   * the runner is back, but at once, so that another runner may take it meanwhile.
   */
  stopStarting(): void {
    this.stopping = true;
  }

  /** A session this runner held whose container is gone: it ends failed (container_lost), and may be retried. */
  async reportLost(held: Pick<HeldSession, 'sessionId' | 'attempt'>): Promise<void> {
    const log = this.logger.child({ sessionId: held.sessionId, attempt: held.attempt });
    log.warn('container lost: the session was held by this runner but its container no longer exists');
    const report = exitWithoutContainer('container_lost', 'its container no longer exists on the runner');
    this.metrics.attemptEnded(report.cause);
    void this.liveLogs.ended(held.sessionId, held.attempt, log);
    await this.reporter.exited(held.sessionId, held.attempt, report, 0, log);
  }

  /**
   * Holds one attempt from its claim (or adoption) to its end: runs `body`, reports its exit, removes
   * its container and files. It counts in its image's pacing meanwhile, as started at `since` (an
   * adopted container started before), and a rate limit its agent hit pauses its image.
   */
  private async hold(
    sessionId: string,
    attempt: number,
    image: string,
    since: number | undefined,
    body: (session: SessionInHand, log: HubLogger) => Promise<ExitReport>,
  ): Promise<void> {
    const startedAt = Date.now();
    const session = this.ledger.take(sessionId, attempt);
    this.pacing.started(image, since);
    const log = this.logger.child({ sessionId, attempt, image });
    let report: ExitReport;
    try {
      report = await body(session, log);
    } catch (error) {
      const detail = this.files.scrub((error as Error).message);
      log.error({ containerId: session.containerId, err: detail }, 'container could not be run');
      report = exitWithoutContainer(session.stopCause ?? 'start_failed', detail, session.containerId);
    }
    if (session.egress) report = { ...report, egress: session.egress.traffic() };
    this.metrics.attemptEnded(report.cause);
    if (report.rateLimit) this.pauseImage(image, report.rateLimit, log);
    // For an attempt that never started, whoever follows its log learns it ended (a captured one said so already).
    void this.liveLogs.ended(sessionId, attempt, log);
    try {
      // Reported first, removed after: a runner that dies in between leaves an exited container
      // that reconciliation removes as an orphan, never an outcome that is lost and run again.
      // An attempt the registry no longer gives this runner (its lease lapsed) is not reported at all.
      if (session.abandoned) log.warn({ containerId: session.containerId, why: session.abandoned }, 'attempt given up, not reported; removing its container');
      else {
        await this.reporter
          .exited(sessionId, attempt, report, Date.now() - startedAt, log)
          .catch((error) => log.error({ err: (error as Error).message }, 'the exit could not be reported; reconciliation will report the session lost'));
      }
      if (session.containerId) {
        await this.engine.remove(session.containerId).catch((error) =>
          log.warn({ containerId: session.containerId, err: (error as Error).message }, 'could not remove the container; reconciliation will'),
        );
      }
      // After the agent's container: it lives in the bridge's network namespace.
      await session.egress?.close(log);
      await this.files.discard(sessionId, log);
    } finally {
      this.ledger.release(sessionId);
      this.pacing.ended(image);
    }
  }

  /**
   * A session handed back (by its image's pacing, or for another runner): said at info the first
   * time, at debug when it comes back still held.
   */
  private deferOnce(
    by: 'image pacing' | 'placement',
    sessionId: string,
    attempt: number,
    context: Record<string, unknown>,
    delay: PacingDelay | { delayMs: number; reason: string },
  ): DeferredDelivery {
    const waitMs = 'waitMs' in delay ? delay.waitMs : delay.delayMs;
    const key = `${sessionId}:${attempt}`;
    const first = !this.deferred.has(key);
    if (first) {
      if (this.deferred.size >= MAX_DEFERRED_REMEMBERED) this.deferred.clear();
      this.deferred.add(key);
    }
    const fields = { sessionId, attempt, ...context, waitMs: Math.round(waitMs) };
    if (first) this.logger.info(fields, `session deferred by ${by}: ${delay.reason}`);
    else this.logger.debug(fields, `session deferred by ${by}: ${delay.reason}`);
    return new DeferredDelivery(waitMs, `session ${sessionId} attempt ${attempt}: ${delay.reason}`);
  }

  /** Its agent hit its model's rate limit: no session of its image group starts here before the limit resets. */
  private pauseImage(image: string, rateLimit: RateLimit, log: HubLogger): void {
    const paused = this.pacing.pauseUntil(image, rateLimit.resetAt, rateLimit.message);
    if (!paused) return;
    const { group, until } = paused.pause;
    if (paused.isNew) log.info({ group, until }, `image pacing: ${group} paused until ${until}: ${rateLimit.message}`);
    else log.debug({ group, until }, `image pacing: ${group} stays paused until ${until}`);
  }

  /** The report of an attempt that must not start its container: a stop was asked for, or the runner is stopping. */
  private stoppedBeforeStart(session: SessionInHand, when: string, containerId: string | null = null): ExitReport | null {
    if (session.stopCause) return exitWithoutContainer(session.stopCause, `stopped before its container ${when}`, containerId);
    if (this.stopping) return exitWithoutContainer('container_lost', `the runner stopped before its container ${when}`, containerId);
    return null;
  }

  private async runAttempt(spec: SessionSpec, session: SessionInHand, log: HubLogger): Promise<ExitReport> {
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
    const network = this.settings.networks.networkFor(spec.image);
    if (network !== 'none' && !(await this.engine.networkExists(network))) {
      return exitWithoutContainer('start_failed', missingNetworkReason(network, spec.image));
    }
    const stopped = this.stoppedBeforeStart(session, 'was created');
    if (stopped) return stopped;
    const paths = await this.files.prepare(spec.sessionId, spec.attempt, spec.prompt, spec.context);
    try {
      const workspace = await this.workspaces.prepare(spec, paths, log);
      log.info({ baseCommit: workspace.baseCommit, headCommit: workspace.headCommit }, 'workspace prepared');
    } catch (error) {
      // Dependencies whose changes collide: the session cannot start from their work.
      if (error instanceof MergeConflictError) return exitWithoutContainer('merge_conflict', error.message);
      throw error;
    }
    const inputs = await this.inputs.fetch(spec.inputs, paths.inputsDir, log);
    if (inputs.length) log.info({ inputs: inputs.map((input) => input.name) }, 'inputs fetched');
    // Named destinations through Hub's proxy, for a container on network none; null when it may reach nothing.
    session.egress = network === 'none' ? await this.egress.open(spec, log) : null;
    const stoppedMeanwhile = this.stoppedBeforeStart(session, 'was created');
    if (stoppedMeanwhile) return stoppedMeanwhile;
    const containerId = await this.engine.create({
      sessionId: spec.sessionId,
      attempt: spec.attempt,
      image: spec.image,
      env: { ...containerEnvironment(spec, this.settings.secrets, this.settings.imageEnvironment), ...session.egress?.env },
      outputDir: paths.outputDir,
      promptFile: paths.promptFile,
      contextFile: spec.context === null ? null : paths.contextFile,
      workspaceDir: paths.workspaceDir,
      inputs,
      network: session.egress?.network ?? network,
      limits: this.settings.limits,
      logCapBytes: this.settings.logCapBytes,
      fileSizeLimitBytes: this.settings.outputQuotaBytes,
      tmpBytes: this.settings.containerTmpBytes ?? DEFAULT_CONTAINER_TMP_BYTES,
      user: this.settings.containerUser,
      runnerId: this.settings.runnerId,
    }).catch(this.metrics.failedAt('create'));
    session.containerId = containerId;
    log.info({ containerId }, 'container created');
    const stoppedBeforeStart = this.stoppedBeforeStart(session, 'started', containerId);
    if (stoppedBeforeStart) {
      await this.engine.remove(containerId);
      return stoppedBeforeStart;
    }
    // Attached before the start, so that every byte the container prints is read, in order.
    const logStream = await this.engine.followLog(containerId);
    try {
      await this.engine.start(containerId).catch(this.metrics.failedAt('start'));
    } catch (error) {
      (logStream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw error;
    }
    this.metrics.containerStarted();
    log.info({ containerId }, 'container started');
    return this.watcher.watch({
      session,
      containerId,
      logStream,
      paths,
      timeoutSeconds: spec.timeoutSeconds,
      timeLeftMs: spec.timeoutSeconds * 1000,
      log,
      notes: session.egress?.notes,
    });
  }
}
