import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import type { HostDirAlias } from '@hub/git';
import { fetchFromBundle, GitCommandError, hostGit, type HostGitOptions } from '@hub/git';
import { conflictMessage } from './conflict-message';
import { handOver, HUB_IDENTITY } from './prepare-workspace';

/** One dependency's captured changes (captureChanges): a bundle of base..head. */
export interface DependencyChanges {
  sessionName: string;
  sessionId: string;
  /** Host path of the git bundle (captureChanges' bundleFile, fetched back from where it is stored). */
  bundleFile: string;
  headCommit: string;
}

export interface MergeChangesOptions {
  /** The agent's user and group: files the merges write are handed to them. */
  uid: number;
  gid: number;
  /** Host directories hidden in errors, beside the workspace and the bundles' directories. */
  hide?: readonly (string | HostDirAlias)[];
  /** For each fetch and merge; default 2 minutes. */
  timeoutMs?: number;
  /**
   * The date of the merge commits; default now. An orchestration's result gives the moment it
   * finished, so combining its changes again makes the very same commits (a redelivered event
   * publishes the same head, never a rival one).
   */
  date?: Date;
}

export type MergeOutcome = 'fast-forward' | 'merge' | 'up-to-date';

export interface MergedChanges {
  /** The workspace's HEAD once every dependency is merged. */
  headCommit: string;
  merged: { sessionName: string; outcome: MergeOutcome }[];
}

/** A dependency's changes collide with what was merged before them (or with the base): nothing is merged. */
export class MergeConflictError extends Error {
  constructor(
    /** The dependency whose merge conflicted. */
    readonly sessionName: string,
    /** The dependencies merged before it that changed the conflicting files, in declaration order (none: the base). */
    readonly collidesWith: readonly string[],
    /** The conflicting files (the first CONFLICT_FILES_KEPT). */
    readonly files: readonly string[],
    readonly fileCount: number,
  ) {
    super(conflictMessage(sessionName, collidesWith, files, fileCount));
    this.name = 'MergeConflictError';
  }
}

const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const CONFLICT_FILES_KEPT = 50;
const DEFAULT_TIMEOUT_MS = 2 * 60_000;
const HUB_AUTHOR = {
  GIT_AUTHOR_NAME: HUB_IDENTITY.GIT_AUTHOR_NAME,
  GIT_AUTHOR_EMAIL: HUB_IDENTITY.GIT_AUTHOR_EMAIL,
  GIT_COMMITTER_NAME: HUB_IDENTITY.GIT_COMMITTER_NAME,
  GIT_COMMITTER_EMAIL: HUB_IDENTITY.GIT_COMMITTER_EMAIL,
};

/**
 * Merges each dependency's changes into a fresh workspace, in the order given (the session's
 * declaration order): its bundle fetched (objects checked), then merged — a fast-forward when
 * possible, otherwise a merge commit authored by Hub. Runs host git, so only on a workspace the agent
 * has not had yet (prepareWorkspace's, before its container exists): its configuration is Hub's.
 * A conflict throws MergeConflictError naming the files and the sessions whose changes collide, and
 * leaves the workspace as it was before the first merge: nothing half-merged.
 */
export async function mergeChanges(
  workspaceDir: string,
  changes: readonly DependencyChanges[],
  options: MergeChangesOptions,
): Promise<MergedChanges> {
  const dir = await realpath(workspaceDir);
  const git: HostGitOptions = {
    cwd: dir,
    safeDirectory: dir, // handed to the agent's uid already
    hide: [workspaceDir, ...changes.map((change) => dirname(change.bundleFile)), ...(options.hide ?? [])],
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  const base = await rev(git, 'HEAD');
  const merged: { change: DependencyChanges; outcome: MergeOutcome }[] = [];
  try {
    for (const [index, change] of changes.entries()) {
      const head = await fetchChanges(git, change, index);
      const outcome = await merge(git, change, head, base, merged, mergeIdentity(options.date));
      merged.push({ change, outcome });
    }
  } catch (error) {
    await restore(git, base);
    throw error;
  } finally {
    await dropRefs(git, changes.length);
  }
  if (merged.some(({ outcome }) => outcome !== 'up-to-date')) await handOver(dir, options.uid, options.gid);
  return { headCommit: await rev(git, 'HEAD'), merged: merged.map(({ change, outcome }) => ({ sessionName: change.sessionName, outcome })) };
}

/** The bundle's HEAD, fetched to refs/hub/dependencies/<index>; it must be the head commit the capture reported. */
async function fetchChanges(git: HostGitOptions, change: DependencyChanges, index: number): Promise<string> {
  if (!COMMIT.test(change.headCommit)) throw new Error(`the changes of ${change.sessionName} name no valid head commit`);
  if (!isAbsolute(change.bundleFile)) throw new Error(`the changes of ${change.sessionName} are not an absolute bundle path`);
  await fetchFromBundle(change.bundleFile, `+HEAD:${refOf(index)}`, git).catch((error) => {
    throw new Error(`the changes of ${change.sessionName} could not be read: ${(error as Error).message}`, { cause: error });
  });
  const head = await rev(git, refOf(index));
  if (head !== change.headCommit) {
    throw new Error(`the changes of ${change.sessionName} end at ${head}, not at their recorded head ${change.headCommit}`);
  }
  return head;
}

async function merge(
  git: HostGitOptions,
  change: DependencyChanges,
  head: string,
  base: string,
  before: readonly { change: DependencyChanges; outcome: MergeOutcome }[],
  identity: Readonly<Record<string, string>>,
): Promise<MergeOutcome> {
  if (await isAncestor(git, head, 'HEAD')) return 'up-to-date';
  const outcome: MergeOutcome = (await isAncestor(git, 'HEAD', head)) ? 'fast-forward' : 'merge';
  try {
    await hostGit(
      [
        'merge',
        '--quiet',
        '--no-edit',
        '--no-verify',
        '--no-stat',
        '--ff',
        '--no-rerere-autoupdate',
        '-m',
        `Merge the changes of ${change.sessionName}`,
        head,
      ],
      { ...git, identity },
    );
  } catch (error) {
    const conflicted = await unmergedFiles(git);
    if (!conflicted.length) {
      throw new Error(`the changes of ${change.sessionName} could not be merged: ${(error as Error).message}`, { cause: error });
    }
    await hostGit(['merge', '--abort'], git).catch(() => undefined);
    const collidesWith = await sessionsTouching(git, conflicted.slice(0, CONFLICT_FILES_KEPT), base, before);
    throw new MergeConflictError(change.sessionName, collidesWith, conflicted.slice(0, CONFLICT_FILES_KEPT), conflicted.length);
  }
  return outcome;
}

/** Hub as author and committer of merge commits, dated `date` when given (git's `@<seconds> +0000`). */
function mergeIdentity(date: Date | undefined): Readonly<Record<string, string>> {
  if (!date) return HUB_AUTHOR;
  const at = `@${Math.floor(date.getTime() / 1000)} +0000`;
  return { ...HUB_AUTHOR, GIT_AUTHOR_DATE: at, GIT_COMMITTER_DATE: at };
}

/** The dependencies merged before that changed any of `files` since the base, in their order. */
async function sessionsTouching(
  git: HostGitOptions,
  files: readonly string[],
  base: string,
  before: readonly { change: DependencyChanges; outcome: MergeOutcome }[],
): Promise<string[]> {
  const touching: string[] = [];
  for (const { change, outcome } of before) {
    if (outcome === 'up-to-date') continue;
    const { stdout } = await hostGit(
      ['--literal-pathspecs', 'diff', '--name-only', '--no-renames', '--no-ext-diff', '-z', base, change.headCommit, '--', ...files],
      git,
    );
    if (stdout.length) touching.push(change.sessionName);
  }
  return touching;
}

async function unmergedFiles(git: HostGitOptions): Promise<string[]> {
  const { stdout } = await hostGit(['diff', '--name-only', '--diff-filter=U', '--no-renames', '-z'], git).catch(() => ({ stdout: '' }));
  return [...new Set(stdout.split('\0').filter(Boolean))];
}

/** Back to the base, whatever was merged before the failure. */
async function restore(git: HostGitOptions, base: string): Promise<void> {
  await hostGit(['merge', '--abort'], git).catch(() => undefined);
  await hostGit(['reset', '--hard', '--quiet', base], git);
}

async function dropRefs(git: HostGitOptions, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    await hostGit(['update-ref', '-d', refOf(index)], git).catch(() => undefined);
  }
}

async function isAncestor(git: HostGitOptions, ancestor: string, descendant: string): Promise<boolean> {
  try {
    await hostGit(['merge-base', '--is-ancestor', ancestor, descendant], git);
    return true;
  } catch (error) {
    if (error instanceof GitCommandError && error.exitCode === 1) return false;
    throw error;
  }
}

async function rev(git: HostGitOptions, name: string): Promise<string> {
  return (await hostGit(['rev-parse', '--verify', '--quiet', `${name}^{commit}`], git)).stdout.trim();
}

const refOf = (index: number) => `refs/hub/dependencies/${index}`;
