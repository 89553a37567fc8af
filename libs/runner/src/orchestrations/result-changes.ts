import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { HubLogger } from '@hub/config';
import { type CombinedChanges, MAX_PAGE_SIZE, orchestrationChangesKey, type SessionView } from '@hub/contracts';
import { MergeConflictError, mergeChanges } from '../git/merge-changes';
import { BaseUnavailableError, prepareResultWorkspace } from '../git/result-workspace';
import { RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { BaseBundles } from '../workspace/base-bundles';
import { GitWorkspaces, resultBranchOf } from '../workspace/git-workspaces';
import { repositoryMismatch } from './final-sessions';

export interface CombineRequest {
  orchestrationId: string;
  orchestrationName: string;
  /** The final sessions (finalSessions), in the order their changes are merged. */
  finals: readonly SessionView[];
  /** An absent or empty directory of the runner's for the work; the caller removes it. */
  dir: string;
  /** When the orchestration finished: the date of the merge commits, so that combining again makes the same ones. */
  finishedAt: Date;
}

/**
 * The final sessions' changes combined, stored under orchestrationChangesKey, with the workspace
 * that holds them (to push from); or why there are none: null when nothing changed, a reason when
 * they could not be combined (a conflict, different repositories, a base gone).
 */
export type Combined = { changes: CombinedChanges; reason: null; workspaceDir: string } | { changes: null; reason: string | null };

/**
 * Combines an orchestration's final changes as a dependent session's workspace is prepared: a
 * fresh workspace from the runner's mirror at the first final session's base, each final session's
 * stored bundle merged in declaration order; then captured (helper container) and stored as a
 * session's changes are, on `hub/<orchestration>/result`. What could not be combined is a result
 * with its reason; anything else that fails throws.
 */
@Injectable()
export class ResultChanges {
  constructor(
    private readonly workspaces: GitWorkspaces,
    private readonly baseBundles: BaseBundles,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
  ) {}

  async combine(request: CombineRequest, log: HubLogger): Promise<Combined> {
    const { orchestrationId, orchestrationName, finals, dir } = request;
    if (!finals.length) return { changes: null, reason: null };
    const mismatch = repositoryMismatch(finals);
    if (mismatch) return { changes: null, reason: mismatch };
    const repository = finals[0].repository;
    const bases = finals.map((session) => session.changes!.baseCommit);
    const [uid, gid] = this.workspaces.agentIds();
    const hide = [this.settings.dataDir];
    const mirror = await this.workspaces.mirrorOf(repository);
    const workspaceDir = join(dir, 'workspace');
    try {
      await prepareResultWorkspace({
        dir: workspaceDir,
        mirror,
        baseCommit: bases[0],
        bases,
        baseBundleOf: (commit) => this.fetchBase(commit, join(dir, 'bases'), log),
        label: orchestrationId,
        uid,
        gid,
        hide,
      });
    } catch (error) {
      if (error instanceof BaseUnavailableError) return { changes: null, reason: error.message };
      throw error;
    }

    const sources = finals.map((session) => ({ name: session.name ?? session.id, sessionId: session.id }));
    const changes = await this.workspaces.fetchChanges(sources, join(dir, 'bundles'), log);
    const missing = sources.filter((source) => !changes.some((change) => change.sessionId === source.sessionId));
    if (missing.length) {
      return { changes: null, reason: `the changes of ${missing.map((source) => source.name).join(', ')} are not stored`.slice(0, 2000) };
    }
    try {
      const merged = await mergeChanges(workspaceDir, changes, { uid, gid, hide, date: request.finishedAt });
      log.info({ merged: merged.merged, headCommit: merged.headCommit }, 'final sessions’ changes merged');
    } catch (error) {
      if (error instanceof MergeConflictError) return { changes: null, reason: error.message };
      throw error;
    }

    const summary = await this.workspaces.captureAndStore(
      {
        key: orchestrationChangesKey(orchestrationId),
        workspaceDir,
        outDir: join(dir, 'changes'),
        baseCommit: bases[0],
        branch: resultBranchOf(orchestrationName),
        authorId: orchestrationId,
        label: `orchestration ${orchestrationName}`,
      },
      log,
    );
    if (!summary) return { changes: null, reason: null };
    // Stored already when the first final session ended, unless that failed: whoever fetches the result's branch needs it.
    await this.baseBundles.ensureStored(bases[0], mirror, join(dir, 'base'), log);
    // The contract lists at most a page of sessions.
    const named = finals.slice(0, MAX_PAGE_SIZE).map((session) => ({ sessionId: session.id, name: session.name }));
    return { changes: { ...summary, repository, sessions: named }, reason: null, workspaceDir };
  }

  /** The stored history up to `commit`, fetched into `dir`: its path, or null when none is stored. */
  private async fetchBase(commit: string, dir: string, log: HubLogger): Promise<string | null> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${commit}.bundle`);
    return (await this.baseBundles.fetch(commit, file, log)) ? file : null;
  }
}
