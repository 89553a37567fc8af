import { Inject, Injectable, Optional } from '@nestjs/common';
import { AGENT_USAGE_FILE, type ChangeSummary, type ContainerExitCause } from '@hub/contracts';
import { HUB_LOGGER, type HubLogger } from '@hub/config';
import { LiveLogs } from '../logs/live-logs';
import { captureLog, type LogCapture } from '../logs/log-capture';
import type { LogNotes } from '../logs/log-notes';
import { AttemptOutputs, type StoredOutput } from '../output/attempt-outputs';
import { watchDiskQuota } from '../output/output-quota';
import { ContainerEngine } from '../ports/container-engine.port';
import { CONTAINER_ENGINE, RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { type AgentUsage, DEFAULT_RATE_LIMIT_WAIT, readAgentUsage } from '../usage/agent-usage';
import { AttemptFiles, type AttemptPaths } from '../workspace/attempt-files';
import { GitWorkspaces } from '../workspace/git-workspaces';
import { ExitReport, ExitReporter, exitWithoutContainer } from './exit-reporter';
import { HoldCheck } from './hold-check';
import { SessionInHand } from './session-ledger';

/** How long the log stream may lag behind the container's exit before the capture is cut off. */
const LOG_DRAIN_MS = 30_000;

export interface WatchedAttempt {
  session: SessionInHand;
  containerId: string;
  /** The container's log, attached before it started (ContainerEngine.followLog). */
  logStream: NodeJS.ReadableStream;
  paths: AttemptPaths;
  timeoutSeconds: number;
  /** What is left of the time limit (an adopted container has used some). */
  timeLeftMs: number;
  log: HubLogger;
  /** Hub's lines for the session's log while it runs (refused egress). */
  notes?: LogNotes;
}

/**
 * From a started container to its exit report: its log captured as it runs (capped, and published
 * live), its time limit and disk quota enforced, then its log, output files and manifest stored,
 * and what its agent reported spending (usage.json). Bounded whatever the agent prints or writes.
 */
@Injectable()
export class WatchContainer {
  constructor(
    private readonly reporter: ExitReporter,
    private readonly outputs: AttemptOutputs,
    private readonly files: AttemptFiles,
    private readonly workspaces: GitWorkspaces,
    private readonly liveLogs: LiveLogs,
    @Inject(CONTAINER_ENGINE) private readonly engine: ContainerEngine,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
    @Optional() private readonly holdCheck?: HoldCheck,
  ) {}

  async watch(attempt: WatchedAttempt): Promise<ExitReport> {
    const { session, containerId, paths, log } = attempt;
    // Read from now on, whatever happens next: Docker holds the container's writes for its reader.
    const capturing = this.captureLog(attempt, log);
    await this.reporter.started(session.sessionId, session.attempt, containerId, log);
    const timer = setTimeout(() => void this.stop(session, 'timed_out', 0), Math.max(0, attempt.timeLeftMs));
    const quota = watchDiskQuota({
      dirs: [paths.outputDir, paths.workspaceDir],
      quotaBytes: this.settings.outputQuotaBytes,
      onExceeded: () => void this.stop(session, 'quota_exceeded', 0),
    });
    const exit = await this.engine.wait(containerId).finally(() => {
      clearTimeout(timer);
      quota.stop();
    });
    // From here on a runner asked to stop finishes the attempt before it goes (SettleOnShutdown).
    session.containerExited = true;
    const captured = await capturing;
    // Nothing of an attempt this runner no longer holds is stored (its outputs would replace those
    // of the attempt that ran elsewhere) nor reported (RunSession): its container is only removed.
    if (!(await this.stillHeld(session, log))) {
      log.warn({ containerId, exitCode: exit.exitCode, why: session.abandoned }, 'container exited; not stored nor reported: this runner no longer holds the attempt');
      return exitWithoutContainer('container_lost', session.abandoned ?? 'abandoned', containerId);
    }
    // A file cut at the size limit (the writer got SIGXFSZ) fills the quota exactly.
    if (!session.stopCause && (await quota.measure()) >= this.settings.outputQuotaBytes) session.stopCause = 'quota_exceeded';
    const cause = session.stopCause ?? 'exited';
    // Whatever the cause: what the agent spent was spent (a rate limit counts only when it failed).
    const agent = await this.agentUsage(paths.outputDir, cause === 'exited' && exit.exitCode !== 0, log);
    await this.outputs.storeLog(session.sessionId, session.attempt, captured, log);
    const changes =
      cause === 'quota_exceeded' ? { summary: null, problem: null } : await this.captureChanges(session.sessionId, paths, log);
    const output =
      cause === 'quota_exceeded'
        ? await this.outputs.storeNothing(session.sessionId, session.attempt, 'over the output quota: nothing kept', log)
        : await this.outputs.storeOutput(session.sessionId, session.attempt, paths.outputDir, log);
    log.info(
      {
        containerId,
        exitCode: exit.exitCode,
        oomKilled: exit.oomKilled,
        cause,
        files: output.files,
        logDroppedBytes: captured?.droppedBytes,
        tokens: agent.usage?.tokens.total,
        rateLimitedUntil: agent.rateLimit?.resetAt,
      },
      'container exited',
    );
    return {
      cause,
      exitCode: exit.exitCode,
      oomKilled: exit.oomKilled,
      containerId,
      detail: this.describe(cause, attempt.timeoutSeconds, captured, output, exit.exitCode, changes.problem),
      output: { files: output.files, bytes: output.bytes, skipped: output.skipped },
      logBytes: captured?.keptBytes ?? 0,
      logDroppedBytes: captured?.droppedBytes ?? 0,
      changes: changes.summary,
      usage: agent.usage,
      rateLimit: agent.rateLimit,
    };
  }

  private async stillHeld(session: SessionInHand, log: HubLogger): Promise<boolean> {
    if (session.abandoned) return false;
    return this.holdCheck ? this.holdCheck.stillHolds(session, log) : true;
  }

  /** The agent's usage report; one that is ignored leaves the outcome as it is, and the log says why. */
  private async agentUsage(outputDir: string, failed: boolean, log: HubLogger): Promise<AgentUsage> {
    const agent = await readAgentUsage(outputDir, {
      failed,
      wait: this.settings.rateLimitWait ?? DEFAULT_RATE_LIMIT_WAIT,
      scrub: (text) => this.files.scrub(this.settings.secrets.maskText(text)),
    });
    if (agent.problem) log.warn({ problem: agent.problem }, `${AGENT_USAGE_FILE} ignored: ${agent.problem}`);
    return agent;
  }

  /** What the session changed in its workspace; a capture that fails loses the changes, not the outcome. */
  private async captureChanges(
    sessionId: string,
    paths: AttemptPaths,
    log: HubLogger,
  ): Promise<{ summary: ChangeSummary | null; problem: string | null }> {
    try {
      return { summary: await this.workspaces.capture(sessionId, paths, log), problem: null };
    } catch (error) {
      const problem = this.files.scrub((error as Error).message).slice(0, 300);
      log.warn({ err: problem }, 'the changes could not be captured');
      return { summary: null, problem };
    }
  }

  /** Stops a session's container; its exit is then reported with `cause`. The first cause wins. */
  async stop(session: SessionInHand, cause: ContainerExitCause, graceSeconds: number): Promise<void> {
    if (session.stopCause) return;
    session.stopCause = cause;
    if (!session.containerId) return;
    this.logger.info({ sessionId: session.sessionId, containerId: session.containerId, cause }, 'stopping container');
    await this.engine.stop(session.containerId, graceSeconds).catch((error) =>
      this.logger.warn({ containerId: session.containerId, err: (error as Error).message }, 'stop failed'),
    );
  }

  /**
   * Follows the container's log from its start, publishing it live as it comes; the live log ends
   * with the capture. A capture that fails (Docker dropping the stream) loses the log, not the
   * outcome: the exit is still reported, and says so.
   */
  private async captureLog({ logStream: stream, session, containerId, paths, notes }: WatchedAttempt, log: HubLogger): Promise<LogCapture | null> {
    const drain = new AbortController();
    const live = this.liveLogs.open(session.sessionId, session.attempt, log);
    try {
      const capture = captureLog(stream, {
        dir: paths.captureDir,
        capBytes: this.settings.logCapBytes,
        masker: () => this.settings.secrets.chunkMasker(),
        live,
        signal: drain.signal,
        notes,
      });
      // The stream ends when the container stops; if Docker keeps it open, cut it off after the exit.
      void this.engine
        .wait(containerId)
        .then(() => setTimeout(() => drain.abort(), LOG_DRAIN_MS).unref())
        .catch(() => undefined);
      return await capture;
    } catch (error) {
      log.warn({ containerId, err: this.files.scrub((error as Error).message) }, 'the log could not be captured');
      return null;
    } finally {
      await this.liveLogs.close(live, log);
    }
  }

  private describe(
    cause: ContainerExitCause,
    timeoutSeconds: number,
    captured: LogCapture | null,
    output: StoredOutput,
    exitCode: number,
    changesProblem: string | null,
  ): string | null {
    const parts: string[] = [];
    if (changesProblem) parts.push(`its changes could not be captured: ${changesProblem}`);
    if (cause === 'quota_exceeded') {
      parts.push(`wrote more than the output quota of ${formatBytes(this.settings.outputQuotaBytes)} to /hub/output (HUB_OUTPUT_QUOTA_MB)`);
    }
    if (cause === 'exited' && exitCode !== 0 && captured?.lastLine) parts.push(`last log line: ${captured.lastLine}`);
    if (cause === 'timed_out') parts.push(`${timeoutSeconds}s`);
    if (!captured) parts.push('its log could not be captured');
    else if (captured.droppedBytes > 0) {
      parts.push(
        `log truncated: kept the first ${formatBytes(captured.keptBytes)}, dropped ${formatBytes(captured.droppedBytes)} over the log cap (HUB_LOG_CAP_MB)`,
      );
    }
    if (output.skipped > 0 && cause !== 'quota_exceeded') {
      const named = output.skippedNames.slice(0, 5).map((s) => `${s.path} (${s.reason})`);
      const more = output.skipped > named.length ? ` and ${output.skipped - named.length} more` : '';
      parts.push(`output not kept: ${named.join(', ')}${more}`);
    }
    return parts.length ? this.files.scrub(parts.join('; ')).slice(0, 2000) : null;
  }
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
