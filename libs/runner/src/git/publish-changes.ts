import { GitCommandError, hostGit, type HostDirAlias, type HostGitOptions } from '@hub/git';
import { COMMIT_ID } from './capture-results';
import { assertBranchName } from './prepare-workspace';

export interface PushRequest {
  /** A repository Hub made and no agent has had (an orchestration's combined workspace) holding `commit`. */
  workspaceDir: string;
  commit: string;
  /** The branch to update: `refs/heads/<branch>` of the remote. */
  branch: string;
  /** Where git finds the remote: a URL, or the real path of a local repository (mirror-cache's locationOf). */
  remote: string;
  /** How it is reached (mirror-cache's remoteAccess: transport, token header, safe directory). */
  access: Pick<HostGitOptions, 'protocols' | 'safeDirectory' | 'config' | 'secrets'>;
  /** Host directories hidden (or shown by another name) in errors, beside the workspace. */
  hide?: readonly (string | HostDirAlias)[];
}

/** The remote refused the push (a branch that moved elsewhere, a protected branch): git's reason, host paths hidden. */
export class PushRefusedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'PushRefusedError';
  }
}

const PUSH_TIMEOUT_MS = 10 * 60_000;

/**
 * Pushes `commit` to `refs/heads/<branch>` of the remote, never forced: the remote takes it only when
 * its branch is absent, at the commit already, or an ancestor of it. A refusal (git's exit code 1: a
 * ref rejected, by the fast-forward rule or by the remote) throws PushRefusedError; anything else
 * (unreachable, a timeout) is rethrown as it came, being worth another try.
 */
export async function pushCommit(request: PushRequest): Promise<void> {
  if (!COMMIT_ID.test(request.commit)) throw new Error(`"${request.commit.slice(0, 80)}" is not a commit id`);
  await assertValidBranch(request.branch);
  const { workspaceDir } = request;
  try {
    await hostGit(
      // The workspace was handed to the agent's uid for the capture helper: named safe too
      // (safe.directory is a list; the remote's own entry comes with `access`).
      ['-c', `safe.directory=${workspaceDir}`, 'push', '--quiet', '--no-verify', '--', request.remote, `${request.commit}:refs/heads/${request.branch}`],
      { ...request.access, cwd: workspaceDir, hide: request.hide, timeoutMs: PUSH_TIMEOUT_MS },
    );
  } catch (error) {
    if (error instanceof GitCommandError && error.exitCode === 1) {
      throw new PushRefusedError(`the push to ${request.branch} was refused: ${error.detail}`);
    }
    throw error;
  }
}

/** A branch name the push could never take (checked by git's own rules) is a refusal too, not a failure worth retrying. */
async function assertValidBranch(branch: string): Promise<void> {
  try {
    assertBranchName(branch);
    await hostGit(['check-ref-format', `refs/heads/${branch}`]);
  } catch {
    throw new PushRefusedError(`"${branch.slice(0, 100)}" is not a valid branch name`);
  }
}
