import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { HubLogger } from '@hub/config';
import { ChangeSummary, MAX_CHANGED_FILES_LISTED, SessionSpec } from '@hub/contracts';
import { withoutHostPaths } from '@hub/git';
import { OutputStore } from '@hub/messaging';
import { captureChanges } from '../git/capture-changes';
import { DependencyChanges, mergeChanges } from '../git/merge-changes';
import { ensureMirror, locationOf, remoteAccess, resolveRepositorySource } from '../git/mirror-cache';
import { prepareWorkspace } from '../git/prepare-workspace';
import { pushCommit, PushRefusedError } from '../git/publish-changes';
import { OBJECT_STORE_PATIENCE_MS } from '../inputs/input-fetcher';
import { ContainerEngine } from '../ports/container-engine.port';
import { CONTAINER_ENGINE, RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { retry } from '../util/retry';
import { workspaceFingerprint } from './workspace-fingerprint';
import { agentIdsOf, type AttemptPaths } from './attempt-files';
import { BaseBundles } from './base-bundles';

/**
 * What a capture needs, written beside the attempt's capture when its workspace is prepared, so a
 * runner that restarts and adopts the container can still capture it.
 */
const CAPTURE_TARGET_FILE = 'capture-target.json';

interface CaptureTarget {
  baseCommit: string;
  /** `hub/<orchestration>/<session>`. */
  branch: string;
  /** Names the session in the commit of what it left uncommitted. */
  label: string;
  /**
   * The mirror the workspace was cloned from (null: no repository): where the history up to the base
   * is bundled from. Absent in a target an older runner wrote: taken as none.
   */
  mirror?: string | null;
  /**
   * The workspace's fingerprint as prepared, when nothing was merged into it (workspaceFingerprint):
   * a workspace found the same at the end has no change, and no helper container is needed to say so.
   */
  untouched?: string | null;
}

/** Whose stored changes to fetch: a dependency, or a final session of an orchestration. */
export interface ChangesSource {
  name: string;
  sessionId: string;
}

/** A workspace Hub prepared whose changes since `baseCommit` are to be captured and stored under `key`. */
export interface WorkspaceCapture {
  /** A session's id, or orchestrationChangesKey for an orchestration's result. */
  key: string;
  workspaceDir: string;
  /** A directory of the runner's for the bundle and the diff. */
  outDir: string;
  baseCommit: string;
  branch: string;
  /** In the author email of the commit of anything left uncommitted (`session-<authorId>@hub.invalid`). */
  authorId: string;
  /** In that commit's author name and message. */
  label: string;
}

/** A push done, or refused by the remote (git's reason, without host paths or the token). */
export type PushResult = { pushed: true } | { pushed: false; reason: string };

/** Names a session for its branch. */
export interface SessionNames {
  sessionId: string;
  name: string | null;
  orchestrationName: string;
}

/**
 * A session's git workspace, from start to end: prepared by Hub (a local clone of the runner's
 * mirror of the repository, or an empty repository) with the changes of the sessions it depends on
 * merged in declaration order; captured when it ends (its commits, plus one of whatever it left
 * uncommitted) in a hardened helper container, since the workspace's .git is the agent's; stored
 * in the object store (bundle, diff, list) for the API and for dependents on any runner, with the
 * history up to its base (BaseBundles). An orchestration's result is made of the same parts
 * (mirrorOf, fetchChanges, captureAndStore), and published with push.
 */
@Injectable()
export class GitWorkspaces {
  constructor(
    private readonly store: OutputStore,
    private readonly baseBundles: BaseBundles,
    @Inject(CONTAINER_ENGINE) private readonly engine: ContainerEngine,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
  ) {}

  /** Prepares /workspace; throws MergeConflictError (its message fit for the session's reason) when dependencies collide. */
  async prepare(spec: SessionSpec, paths: AttemptPaths, log: HubLogger): Promise<{ baseCommit: string; headCommit: string }> {
    const [uid, gid] = this.agentIds();
    const hide = this.hidden();
    const mirror = await this.mirrorOf(spec.repository ?? null);
    const prepared = await prepareWorkspace({ dir: paths.workspaceDir, mirror, branch: spec.branch, sessionId: spec.sessionId, uid, gid, hide });
    const target: CaptureTarget = { baseCommit: prepared.baseCommit, branch: branchOf(spec), label: spec.name ?? spec.sessionId, mirror };
    const targetFile = join(paths.captureDir, CAPTURE_TARGET_FILE);
    const dependencies = await this.fetchChanges(spec.inputs, join(paths.captureDir, 'dependencies'), log);
    if (!dependencies.length) {
      const untouched = await workspaceFingerprint(paths.workspaceDir);
      await writeFile(targetFile, JSON.stringify({ ...target, untouched }), { mode: 0o600 });
      return { baseCommit: prepared.baseCommit, headCommit: prepared.baseCommit };
    }
    await writeFile(targetFile, JSON.stringify(target), { mode: 0o600 });
    const merged = await mergeChanges(paths.workspaceDir, dependencies, { uid, gid, hide });
    log.info({ merged: merged.merged }, 'dependencies’ changes merged');
    return { baseCommit: prepared.baseCommit, headCommit: merged.headCommit };
  }

  /**
   * Captures and stores what the session changed; null when it changed nothing (or the attempt has
   * no workspace, adopted from before workspaces). Then makes sure the history up to its base is
   * stored too, for whoever fetches its branch.
   */
  async capture(sessionId: string, paths: AttemptPaths, log: HubLogger): Promise<ChangeSummary | null> {
    const target = await this.targetOf(paths);
    if (!target) return null;
    if (target.untouched && (await workspaceFingerprint(paths.workspaceDir)) === target.untouched) {
      log.debug('workspace left as prepared: nothing to capture');
      return null;
    }
    const summary = await this.captureAndStore(
      {
        key: sessionId,
        workspaceDir: paths.workspaceDir,
        outDir: join(paths.captureDir, 'changes'),
        baseCommit: target.baseCommit,
        branch: target.branch,
        authorId: sessionId,
        label: target.label,
      },
      log,
    );
    if (summary) await this.baseBundles.ensureStored(summary.baseCommit, target.mirror ?? null, join(paths.captureDir, 'base'), log);
    return summary;
  }

  /**
   * Captures what changed in a workspace since its base (captureChanges: a helper container, since
   * the workspace is the agent's uid's) and stores it (bundle, diff, list) under the key; null when
   * nothing changed.
   */
  async captureAndStore(request: WorkspaceCapture, log: HubLogger): Promise<ChangeSummary | null> {
    const [uid, gid] = this.agentIds();
    const { outDir, branch } = request;
    await mkdir(outDir, { recursive: true, mode: 0o700 });
    const captured = await captureChanges(this.engine, {
      workspaceDir: request.workspaceDir,
      baseCommit: request.baseCommit,
      sessionId: request.authorId,
      sessionLabel: request.label,
      uid,
      gid,
      outDir,
      image: this.settings.gitHelperImage,
      limits: this.settings.limits,
      runnerId: this.settings.runnerId,
      maxBundleBytes: this.settings.outputQuotaBytes,
      maxFilesListed: MAX_CHANGED_FILES_LISTED,
    });
    if (!captured.bundleFile) return null;
    const summary: ChangeSummary = {
      branch,
      baseCommit: captured.baseCommit,
      headCommit: captured.headCommit,
      files: captured.fileCount,
      added: captured.added,
      removed: captured.removed,
    };
    const bundle = captured.bundleFile;
    await retry(
      () =>
        this.store.putChanges(
          request.key,
          { summary, files: captured.files, diffTruncated: captured.truncated },
          { bundle, diff: captured.diffFile },
        ),
      { what: 'storing the changes', log, patienceMs: OBJECT_STORE_PATIENCE_MS },
    );
    log.info({ branch, headCommit: summary.headCommit, files: summary.files }, 'changes captured');
    return summary;
  }

  /** The stored changes of each source that changed something, in the order given, their bundles fetched to `dir`. */
  async fetchChanges(sources: readonly ChangesSource[], dir: string, log: HubLogger): Promise<DependencyChanges[]> {
    const found: DependencyChanges[] = [];
    for (const [index, source] of sources.entries()) {
      const what = `fetching the changes of ${source.name}`;
      const changes = await retry(() => this.store.getChanges(source.sessionId), { what, log, patienceMs: OBJECT_STORE_PATIENCE_MS });
      if (!changes) continue;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const bundleFile = join(dir, `${index}.bundle`);
      await retry(
        async () => {
          const stream = await this.store.getChangesBundleStream(source.sessionId);
          if (!stream) throw new Error(`the changes of ${source.name} are listed but their bundle is missing`);
          await pipeline(stream, createWriteStream(bundleFile, { mode: 0o600 }));
        },
        { what, log, patienceMs: OBJECT_STORE_PATIENCE_MS },
      );
      found.push({ sessionName: source.name, sessionId: source.sessionId, bundleFile, headCommit: changes.summary.headCommit });
    }
    return found;
  }

  /**
   * The runner's mirror of a repository, up to date (HUB_REPOSITORY_REWRITES applied, GITHUB_TOKEN for
   * https, local paths only under HUB_LOCAL_REPOSITORY_ROOTS); null for none.
   */
  async mirrorOf(repository: string | null): Promise<string | null> {
    if (!repository) return null;
    return ensureMirror(this.rewritten(repository), {
      cacheDir: join(this.settings.dataDir, 'mirrors'),
      localRoots: this.settings.localRepositoryRoots,
      credentials: this.credentials(),
      hide: this.hidden(),
    });
  }

  /**
   * Pushes `commit` from a workspace Hub made (never an agent's) to `refs/heads/<branch>` of the
   * repository, reached as its mirror is, never forced: a branch that moved elsewhere refuses it.
   * A refusal is a result, its reason git's (host paths and the token hidden; the repository named
   * as the user gave it); a remote that cannot be reached throws, as a fetch of the mirror does.
   */
  async push(workspaceDir: string, commit: string, repository: string, branch: string): Promise<PushResult> {
    const source = await resolveRepositorySource(this.rewritten(repository), this.settings.localRepositoryRoots);
    const remote = locationOf(source);
    try {
      await pushCommit({
        workspaceDir,
        commit,
        branch,
        remote,
        access: remoteAccess(source, this.credentials()),
        hide: [{ hostDir: remote, shownAs: withoutHostPaths(repository, this.hidden()) }, ...this.hidden()],
      });
      return { pushed: true };
    } catch (error) {
      if (error instanceof PushRefusedError) return { pushed: false, reason: error.message };
      throw error;
    }
  }

  agentIds(): [number, number] {
    return agentIdsOf(this.settings.containerUser);
  }

  private async targetOf(paths: AttemptPaths): Promise<CaptureTarget | null> {
    const text = await readFile(join(paths.captureDir, CAPTURE_TARGET_FILE), 'utf8').catch(() => null);
    return text ? (JSON.parse(text) as CaptureTarget) : null;
  }

  /** The repository as fetched: the first HUB_REPOSITORY_REWRITES rule whose prefix it has, applied. */
  private rewritten(repository: string): string {
    const rule = this.settings.repositoryRewrites.find(({ from }) => repository.startsWith(from));
    return rule ? rule.to + repository.slice(rule.from.length) : repository;
  }

  /** Host directories never shown in an error: the runner's data directory (mirrors, attempts). */
  private hidden(): string[] {
    return [this.settings.dataDir];
  }

  private credentials() {
    const token = this.settings.secrets.value('GITHUB_TOKEN');
    return token ? { token } : undefined;
  }
}

/** `hub/<orchestration>/<session>`, each part made a valid git ref component. */
export function branchOf(target: SessionNames): string {
  return `hub/${refPart(target.orchestrationName)}/${refPart(target.name ?? target.sessionId)}`;
}

/**
 * `hub/<orchestration>/_result`: the branch of an orchestration's combined changes. A session's name
 * never starts with `_`, so no session's branch can be it.
 */
export function resultBranchOf(orchestrationName: string): string {
  return `hub/${refPart(orchestrationName)}/_result`;
}

/** `text` as one valid git ref component. */
function refPart(text: string): string {
  return (
    text
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[.-]+|[.-]+$/g, '')
      .replace(/\.\.+/g, '.')
      .replace(/\.lock$/, '-lock')
      .slice(0, 100) || 'unnamed'
  );
}
