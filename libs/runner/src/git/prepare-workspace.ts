import { spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import type { HostDirAlias } from '@hub/git';
import { GitCommandError, hostGit, type HostGitOptions } from '@hub/git';

export interface PrepareWorkspaceRequest {
  /** The host directory mounted at /workspace: absent or empty. */
  dir: string;
  /** The repository's mirror (ensureMirror), or null for a session without a repository: an empty repository. */
  mirror: string | null;
  /** The branch (or tag) to check out; default the repository's HEAD (`main` for an empty one). */
  branch?: string | null;
  /** Names the agent in the workspace's git identity: `hub session <sessionId>`. */
  sessionId: string;
  /** The agent's user and group: the workspace is theirs once prepared. */
  uid: number;
  gid: number;
  /** Host directories hidden in errors, beside the workspace and the mirror. */
  hide?: readonly (string | HostDirAlias)[];
}

export interface PreparedWorkspace {
  /** The commit the session starts from; its changes are what lies between it and the final HEAD. */
  baseCommit: string;
  /** The branch checked out (the tag's name when a tag was asked for; HEAD is then detached). */
  branch: string;
}

/** Who made the base commit of an empty workspace, and when: fixed, so every empty workspace has the same one. */
export const HUB_IDENTITY = {
  GIT_AUTHOR_NAME: 'Hub',
  GIT_AUTHOR_EMAIL: 'hub@hub.invalid',
  GIT_AUTHOR_DATE: '@0 +0000',
  GIT_COMMITTER_NAME: 'Hub',
  GIT_COMMITTER_EMAIL: 'hub@hub.invalid',
  GIT_COMMITTER_DATE: '@0 +0000',
} as const;

export const DEFAULT_BRANCH = 'main';
const EMPTY_WORKSPACE_MESSAGE = 'Empty workspace prepared by Hub';
const CLONE_TIMEOUT_MS = 5 * 60_000;

/**
 * Makes a session's workspace: a clone of the mirror with the branch checked out, or, without a
 * repository, an empty repository whose one commit is empty (the same commit in every such
 * workspace, so a dependency's changes always have their base). An empty repository gets that
 * commit too: a base commit always exists. The clone copies the mirror's objects
 * (`--no-hardlinks`: no file is shared with the mirror, so nothing done in the workspace can
 * reach it; not `--shared`, whose alternates would point the agent at the mirror) and keeps no
 * remote (its URL would be a host path). The agent's identity is set in the workspace's config,
 * and everything is handed to the agent's uid:gid.
 */
export async function prepareWorkspace(request: PrepareWorkspaceRequest): Promise<PreparedWorkspace> {
  const { dir, mirror } = request;
  const branch = request.branch?.trim() || null;
  if (branch) assertBranchName(branch);
  await assertEmptyDirectory(dir);
  const git: HostGitOptions = { cwd: dir, hide: [...(mirror ? [mirror] : []), ...(request.hide ?? [])] };
  if (mirror) {
    const clone = (at: string | null) =>
      hostGit(['clone', '--quiet', '--no-hardlinks', '--template=', ...(at ? ['--branch', at] : []), '--', mirror, dir], {
        hide: [dir, ...(git.hide ?? [])],
        timeoutMs: CLONE_TIMEOUT_MS,
      });
    const missing = await clone(branch).then(
      () => false,
      (error) => {
        if (branch && error instanceof GitCommandError && /not found in upstream/.test(error.detail)) return true;
        throw error;
      },
    );
    if (missing) {
      // A branch the repository does not have yet (an implementation session's new branch): made from its HEAD.
      await clone(null);
      await hostGit(['checkout', '--quiet', '-b', branch!], git);
    }
    await hostGit(['remote', 'remove', 'origin'], git);
  } else {
    await hostGit(['init', '--quiet', '--template=', `--initial-branch=${branch ?? DEFAULT_BRANCH}`, dir], { hide: [dir] });
  }
  // No commit yet (no repository, or an empty one): the empty commit, made the same everywhere.
  const baseCommit = (await headCommit(git)) ?? (await commitEmptyBase(git));
  const name = `hub session ${request.sessionId}`;
  await hostGit(['config', 'user.name', name], git);
  await hostGit(['config', 'user.email', `session-${request.sessionId}@hub.invalid`], git);
  await handOver(dir, request.uid, request.gid);
  return { baseCommit, branch: branch ?? (await currentBranch(git)) ?? DEFAULT_BRANCH };
}

/**
 * Commits the empty base (no files, Hub's identity, the epoch as its date) on the current branch of
 * the repository at `git.cwd`, which has no commit yet; its id, the same in every repository.
 */
export async function commitEmptyBase(git: HostGitOptions): Promise<string> {
  await hostGit(['commit', '--quiet', '--allow-empty', '--no-verify', '-m', EMPTY_WORKSPACE_MESSAGE], { ...git, identity: HUB_IDENTITY });
  const commit = await headCommit(git);
  if (!commit) throw new Error('the repository has no commit after its initial commit');
  return commit;
}

/** HEAD's commit, or null when the branch has none yet. */
async function headCommit(git: HostGitOptions): Promise<string | null> {
  const { stdout } = await hostGit(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], git).catch((error) => {
    if (error instanceof GitCommandError && error.exitCode === 1) return { stdout: '' };
    throw error;
  });
  return stdout.trim() || null;
}

async function currentBranch(git: HostGitOptions): Promise<string | null> {
  const { stdout } = await hostGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], git).catch(() => ({ stdout: '' }));
  return stdout.trim() || null;
}

/**
 * A name git would take as a branch or tag, and never as an option. Git's own rules
 * (check-ref-format) still apply when it is used; this refuses early what could only be mischief.
 */
export function assertBranchName(branch: string): void {
  if (
    branch.length > 255 ||
    branch.startsWith('-') ||
    branch.startsWith('/') ||
    branch.endsWith('/') ||
    branch.endsWith('.') ||
    branch.endsWith('.lock') ||
    branch.includes('..') ||
    branch.includes('@{') ||
    branch.includes('//') ||
    /[\x00-\x20\x7f~^:?*[\\]/.test(branch)
  ) {
    throw new Error(`branch "${branch.slice(0, 100)}" is not a valid branch name`);
  }
}

async function assertEmptyDirectory(dir: string): Promise<void> {
  if (!dir.startsWith('/')) throw new Error('the workspace directory must be an absolute path');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  if ((await readdir(dir)).length) throw new Error('the workspace directory is not empty');
}

/**
 * Gives the tree to the agent's user, links themselves (never what they point at: -h; -R never
 * follows them). `chown -R` is one process for any number of files.
 */
export function handOver(dir: string, uid: number, gid: number): Promise<void> {
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || uid < 0 || gid < 0) {
    return Promise.reject(new Error(`the workspace owner ${uid}:${gid} is not a uid:gid`));
  }
  return new Promise((resolve, reject) => {
    const chown = spawn('chown', ['-R', '-h', `${uid}:${gid}`, '--', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    chown.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 2000) stderr += chunk.toString('utf8').split(dir).join('/workspace');
    });
    chown.on('error', (error) => reject(new Error(`handing the workspace to ${uid}:${gid} failed: ${error.message}`)));
    chown.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`handing the workspace to ${uid}:${gid} failed: ${stderr.trim().split('\n')[0] || `chown exited with ${code}`}`)),
    );
  });
}
