import { join } from 'node:path';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import {
  EventOf,
  InvalidEventError,
  type OrchestrationResult,
  type OrchestrationView,
  type PublishOutcome,
  RPC,
  type SessionView,
} from '@hub/contracts';
import { EventPublisher, RpcClient } from '@hub/messaging';
import { RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { isPayloadTooLarge, retry } from '../util/retry';
import { GitWorkspaces } from '../workspace/git-workspaces';
import { removeTree } from '../workspace/remove-tree';
import { finalSessions } from './final-sessions';
import { type OrchestrationEnd, whyNotPublished } from './publish-decision';
import { type Combined, ResultChanges } from './result-changes';

/** How long publishing the result is retried while NATS is unreachable; past it the event is redelivered. */
const PUBLISH_PATIENCE_MS = 2 * 60_000;

/**
 * What an orchestration produced, once every session ended (orchestration.finished; one runner
 * takes each): its final sessions' changes combined and stored, pushed to the branch it asked for
 * when every session completed, and the result told to the registry (orchestration.result).
 * A conflict, different repositories, a refused push are results; anything else throws, so the
 * event is delivered again and the result made anew (the same commits: see ResultChanges).
 */
@Injectable()
export class CombineOrchestration implements OnApplicationBootstrap {
  constructor(
    private readonly rpc: RpcClient,
    private readonly changes: ResultChanges,
    private readonly workspaces: GitWorkspaces,
    private readonly publisher: EventPublisher,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  /**
   * Before any event is taken: what a runner that crashed while combining left (its event went to
   * another runner, or comes back here and starts afresh).
   */
  async onApplicationBootstrap(): Promise<void> {
    await removeTree(this.workDir).catch((error) => this.logger.warn({ err: (error as Error).message }, 'could not remove old combined workspaces'));
  }

  async onFinished(event: EventOf<'orchestration.finished'>): Promise<void> {
    const { orchestrationId, status, publish, at } = event.data;
    const log = this.logger.child({ orchestrationId });
    const view = await this.readWhole(orchestrationId);
    const finals = finalSessions(view.sessions);
    log.info({ status, finalSessions: finals.map(nameOf) }, 'orchestration finished: combining its final changes');
    const dir = join(this.workDir, orchestrationId);
    await removeTree(dir);
    try {
      const combined = await this.changes.combine(
        { orchestrationId, orchestrationName: view.name, finals, dir, finishedAt: new Date(at) },
        log,
      );
      const outcome = publish ? await this.publish(publish.branch, { status, counts: view.counts }, combined, log) : null;
      const result: OrchestrationResult = { changes: combined.changes, reason: combined.reason, publish: outcome, at: new Date().toISOString() };
      await this.report(orchestrationId, result, event.id, log);
      log.info(
        { headCommit: combined.changes?.headCommit ?? null, reason: combined.reason, publish: outcome },
        'orchestration result published',
      );
    } finally {
      await removeTree(dir).catch((error) => log.warn({ err: (error as Error).message }, 'could not remove the combined workspace'));
    }
  }

  /** Pushes the combined head when it is to be; what became of it. */
  private async publish(branch: string, end: OrchestrationEnd, combined: Combined, log: HubLogger): Promise<PublishOutcome> {
    const why = whyNotPublished(end, combined);
    if (why !== null || !combined.changes) return { branch, status: 'not_pushed', commit: null, reason: why };
    const { headCommit, repository } = combined.changes;
    // whyNotPublished leaves only changes made in a repository.
    const pushed = await this.workspaces.push(combined.workspaceDir, headCommit, repository!, branch);
    if (!pushed.pushed) {
      log.warn({ branch, headCommit, reason: pushed.reason }, 'the combined changes were not pushed');
      return { branch, status: 'failed', commit: headCommit, reason: pushed.reason };
    }
    return { branch, status: 'pushed', commit: headCommit, reason: null };
  }

  /** Where orchestrations' changes are combined: a directory each, removed once its result is out. */
  private get workDir(): string {
    return join(this.settings.dataDir, 'orchestrations');
  }

  /** Every session of the orchestration, page after page, in the order declared. */
  private async readWhole(orchestrationId: string): Promise<OrchestrationView> {
    let view = await this.rpc.call(RPC.readOrchestration, { orchestrationId });
    const sessions: SessionView[] = [...view.sessions];
    while (view.nextCursor) {
      view = await this.rpc.call(RPC.readOrchestration, { orchestrationId, cursor: view.nextCursor });
      sessions.push(...view.sessions);
    }
    return { ...view, sessions, nextCursor: null };
  }

  /**
   * orchestration.result, its id made from the finished event's: the result of a delivery of the
   * same event again (this runner died before acking) is dropped by JetStream as a duplicate within
   * the stream's duplicate window, and is the same result anyway after it.
   */
  private report(orchestrationId: string, result: OrchestrationResult, finishedEventId: string, log: HubLogger): Promise<void> {
    return retry(() => this.publisher.publish('orchestration.result', { orchestrationId, result }, `orchestration.result:${finishedEventId}`), {
      what: 'publishing the orchestration result',
      log,
      patienceMs: PUBLISH_PATIENCE_MS,
      isPermanent: (error) => isPayloadTooLarge(error) || error instanceof InvalidEventError,
    });
  }
}

const nameOf = (session: SessionView) => session.name ?? session.id;
