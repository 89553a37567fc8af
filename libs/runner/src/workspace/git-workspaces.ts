import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { HubLogger } from '@hub/config';
import { ChangeSummary, MAX_CHANGED_FILES_LISTED, SessionSpec } from '@hub/contracts';
import { OutputStore } from '@hub/messaging';
import { captureChanges } from '../git/capture-changes';
import { DependencyChanges, mergeChanges } from '../git/merge-changes';
import { ensureMirror } from '../git/mirror-cache';
import { prepareWorkspace } from '../git/prepare-workspace';
import { OBJECT_STORE_PATIENCE_MS } from '../inputs/input-fetcher';
import { ContainerEngine } from '../ports/container-engine.port';
import { CONTAINER_ENGINE, RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { retry } from '../util/retry';
import { agentIdsOf, type AttemptPaths } from './attempt-files';

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
}

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
 * in the object store (bundle, diff, list) for the API and for dependents on any runner.
 */
@Injectable()
export class GitWorkspaces {
  constructor(
    private readonly store: OutputStore,
    @Inject(CONTAINER_ENGINE) private readonly engine: ContainerEngine,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
  ) {}

  /** Prepares /workspace; throws MergeConflictError (its message fit for the session's reason) when dependencies collide. */
  async prepare(spec: SessionSpec, paths: AttemptPaths, log: HubLogger): Promise<{ baseCommit: string; headCommit: string }> {
    const [uid, gid] = this.agentIds();
    const hide = [this.settings.dataDir];
    const mirror = spec.repository
      ? await ensureMirror(this.rewritten(spec.repository), {
          cacheDir: join(this.settings.dataDir, 'mirrors'),
          localRoots: this.settings.localRepositoryRoots,
          credentials: this.credentials(),
          hide,
        })
      : null;
    const prepared = await prepareWorkspace({ dir: paths.workspaceDir, mirror, branch: spec.branch, sessionId: spec.sessionId, uid, gid, hide });
    const target: CaptureTarget = { baseCommit: prepared.baseCommit, branch: branchOf(spec), label: spec.name ?? spec.sessionId };
    await writeFile(join(paths.captureDir, CAPTURE_TARGET_FILE), JSON.stringify(target), { mode: 0o600 });
    const dependencies = await this.fetchDependencies(spec, paths, log);
    if (!dependencies.length) return { baseCommit: prepared.baseCommit, headCommit: prepared.baseCommit };
    const merged = await mergeChanges(paths.workspaceDir, dependencies, { uid, gid, hide });
    log.info({ merged: merged.merged }, 'dependencies’ changes merged');
    return { baseCommit: prepared.baseCommit, headCommit: merged.headCommit };
  }

  /**
   * Captures and stores what the session changed; null when it changed nothing (or the attempt has
   * no workspace, adopted from before workspaces).
   */
  async capture(sessionId: string, paths: AttemptPaths, log: HubLogger): Promise<ChangeSummary | null> {
    const target = await this.targetOf(paths);
    if (!target) return null;
    const [uid, gid] = this.agentIds();
    const outDir = join(paths.captureDir, 'changes');
    await mkdir(outDir, { recursive: true, mode: 0o700 });
    const { branch, baseCommit } = target;
    const captured = await captureChanges(this.engine, {
      workspaceDir: paths.workspaceDir,
      baseCommit,
      sessionId,
      sessionLabel: target.label,
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
          sessionId,
          { summary, files: captured.files, diffTruncated: captured.truncated },
          { bundle, diff: captured.diffFile },
        ),
      { what: 'storing the changes', log, patienceMs: OBJECT_STORE_PATIENCE_MS },
    );
    log.info({ branch, headCommit: summary.headCommit, files: summary.files }, 'changes captured');
    return summary;
  }

  /** Each dependency that changed something, in declaration order, its bundle fetched to the runner's disk. */
  private async fetchDependencies(spec: SessionSpec, paths: AttemptPaths, log: HubLogger): Promise<DependencyChanges[]> {
    const dir = join(paths.captureDir, 'dependencies');
    const found: DependencyChanges[] = [];
    for (const [index, input] of spec.inputs.entries()) {
      const what = `fetching the changes of dependency ${input.name}`;
      const changes = await retry(() => this.store.getChanges(input.sessionId), { what, log, patienceMs: OBJECT_STORE_PATIENCE_MS });
      if (!changes) continue;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const bundleFile = join(dir, `${index}.bundle`);
      await retry(
        async () => {
          const stream = await this.store.getChangesBundleStream(input.sessionId);
          if (!stream) throw new Error(`the changes of dependency ${input.name} are listed but their bundle is missing`);
          await pipeline(stream, createWriteStream(bundleFile, { mode: 0o600 }));
        },
        { what, log, patienceMs: OBJECT_STORE_PATIENCE_MS },
      );
      found.push({ sessionName: input.name, sessionId: input.sessionId, bundleFile, headCommit: changes.summary.headCommit });
    }
    return found;
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

  private agentIds(): [number, number] {
    return agentIdsOf(this.settings.containerUser);
  }

  private credentials() {
    const token = this.settings.secrets.value('GITHUB_TOKEN');
    return token ? { token } : undefined;
  }
}

/** `hub/<orchestration>/<session>`, each part made a valid git ref component. */
export function branchOf(target: SessionNames): string {
  const part = (text: string) =>
    text
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[.-]+|[.]+$/g, '')
      .replace(/\.\.+/g, '.')
      .replace(/\.lock$/, '-lock')
      .slice(0, 100) || 'unnamed';
  return `hub/${part(target.orchestrationName)}/${part(target.name ?? target.sessionId)}`;
}
