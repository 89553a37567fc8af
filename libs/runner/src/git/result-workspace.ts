import { realpath } from 'node:fs/promises';
import { fetchFromBundle, type HostDirAlias, hostGit, type HostGitOptions } from '@hub/git';
import { BASE_REF, hasCommit } from './base-bundle';
import { handOver, prepareWorkspace } from './prepare-workspace';

export interface ResultWorkspaceRequest {
  /** The host directory of the workspace: absent or empty. */
  dir: string;
  /** The repository's mirror (ensureMirror), or null when the sessions had none. */
  mirror: string | null;
  /** Where the result starts: the first final session's base commit. */
  baseCommit: string;
  /** Every commit the final sessions' bundles need (their bases), the first included. */
  bases: readonly string[];
  /** The stored history up to a commit (BaseBundles), fetched to a file of the runner's: its path, or null when none is stored. */
  baseBundleOf: (commit: string) => Promise<string | null>;
  /** Names the workspace's (unused) git identity, as prepareWorkspace's sessionId. */
  label: string;
  /** The agent's uid and gid, as for a session: the capture helper runs as them. */
  uid: number;
  gid: number;
  hide?: readonly (string | HostDirAlias)[];
}

/** A base commit is neither in the repository any more (rewritten history) nor stored: the changes cannot be combined. */
export class BaseUnavailableError extends Error {
  constructor(readonly commit: string) {
    super(`the base commit ${commit} is neither in the repository nor stored by Hub`);
    this.name = 'BaseUnavailableError';
  }
}

/**
 * The fresh workspace an orchestration's result is combined in: a session's workspace
 * (prepareWorkspace: a clone of the mirror, or the empty repository) moved to `baseCommit`, with
 * every base the final sessions' bundles need. A base the mirror no longer has (its branch
 * rewritten since) comes from the history Hub stored when the session ended; none there throws
 * BaseUnavailableError. Handed to the agent's uid, as a session's, for mergeChanges and the capture.
 */
export async function prepareResultWorkspace(request: ResultWorkspaceRequest): Promise<void> {
  const { uid, gid } = request;
  await prepareWorkspace({ dir: request.dir, mirror: request.mirror, sessionId: request.label, uid, gid, hide: request.hide });
  const dir = await realpath(request.dir);
  const git: HostGitOptions = { cwd: dir, safeDirectory: dir, hide: [request.dir, ...(request.hide ?? [])] };
  for (const [index, commit] of [...new Set([request.baseCommit, ...request.bases])].entries()) {
    if (await hasCommit(git, commit)) continue;
    const bundle = await request.baseBundleOf(commit);
    if (!bundle) throw new BaseUnavailableError(commit);
    // Kept under a ref of its own while the workspace lives (it is removed whole afterwards).
    await fetchFromBundle(bundle, `+${BASE_REF}:refs/hub/bases/${index}`, { ...git, hide: [bundle, ...(git.hide ?? [])] });
    if (!(await hasCommit(git, commit))) throw new BaseUnavailableError(commit);
  }
  await hostGit(['reset', '--hard', '--quiet', request.baseCommit], git);
  await handOver(dir, uid, gid);
}
