import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { ChangeSummary, orchestrationChangesKey, OrchestrationView } from '@hub/contracts';
import { fetchFromBundle, GitCommandError, hostGit, type HostGitOptions } from '@hub/git';
import { HubApi } from '@hub/hub-api';
import { OutputStore } from '@hub/messaging';
import { GIT_REPOSITORIES_DIR } from '../gateway-http.tokens';
import { withBundleFile } from './bundle-file';
import { repositoryNameOf } from './repository-name';

/** Where the bundles an orchestration's branches come from: the output store, or a stand-in in tests. */
export type ChangeBundles = Pick<OutputStore, 'getChangesBundleStream' | 'getBaseBundleStream'>;

/** One branch of an orchestration's repository: a session's changes, or the combined result. */
export interface ServedBranch {
  /** What the branch holds, for logs: `session <id>` or `the combined result`. */
  label: string;
  /** The key its bundle is stored under (a session's id, or orchestrationChangesKey). */
  key: string;
  changes: ChangeSummary;
  /** Whether HEAD points at it. */
  isResult: boolean;
}

/** Each session's changes on its branch (declaration order), then the combined result on its own. */
export function branchesOf(view: OrchestrationView): ServedBranch[] {
  const sessions = view.sessions.flatMap((session) =>
    session.changes ? [{ label: `session ${session.id}`, key: session.id, changes: session.changes, isResult: false }] : [],
  );
  const result = view.result?.changes;
  return result
    ? [...sessions, { label: 'the combined result', key: orchestrationChangesKey(view.id), changes: result, isResult: true }]
    : sessions;
}

/**
 * Settings of every served repository: nothing can be pushed (http-backend refuses receive-pack),
 * no hook runs, and Hub's own refs (refs/hub/*: the bases, a fetch on its way) are not advertised.
 */
const REPOSITORY_CONFIG: readonly [string, string][] = [
  ['http.receivepack', 'false'],
  ['core.hooksPath', '/dev/null'],
  ['uploadpack.hideRefs', 'refs/hub'],
];

/** Where a bundle's HEAD is fetched to before its head is checked and the branch moved. */
const INCOMING_REF = 'refs/hub/incoming';
const baseRef = (commit: string) => `refs/hub/bases/${commit}`;
const COMMIT = /^[0-9a-f]{40,64}$/;
/** A fetch of a large bundle may take a while; every other command is quick. */
const FETCH_TIMEOUT_MS = 10 * 60_000;
/** for-each-ref lists up to MAX_ORCHESTRATION_SESSIONS branches, each a line of about 150 bytes. */
const REF_LISTING_BYTES = 16 * 1024 * 1024;

/**
 * The bare repository `git fetch` from Hub serves for each orchestration,
 * `<HUB_STATE_DIR>/git/<orchestrationId>.git`, assembled from the object store: a branch per
 * session with changes (`changes.branch`, at `changes.headCommit`), and the combined result on its
 * branch, which HEAD names. A refresh reads the orchestration's view (every page) and brings in what
 * is missing: the history up to a base commit from its base bundle (`refs/hub/base`), a branch's
 * commits from its bundle (objects checked, its HEAD required to be the recorded head). A branch that
 * cannot be brought in is logged and left out; the others are still served. One refresh at a time per
 * orchestration in this process; every git command is a hardened host git command.
 */
@Injectable()
export class OrchestrationRepositories {
  private readonly refreshing = new Map<string, Promise<void>>();

  constructor(
    private readonly hub: HubApi,
    @Inject(OutputStore) private readonly bundles: ChangeBundles,
    @Inject(GIT_REPOSITORIES_DIR) readonly root: string,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  pathOf(orchestrationId: string): string {
    return join(this.root, repositoryNameOf(orchestrationId));
  }

  /** Whether the orchestration's repository has been made (by a refresh). */
  async has(orchestrationId: string): Promise<boolean> {
    return access(join(this.pathOf(orchestrationId), 'HEAD')).then(
      () => true,
      () => false,
    );
  }

  /**
   * Brings the repository up to date with the orchestration's view (making it the first time). Not
   * found when the registry knows no such orchestration. A refresh asked for while one runs starts
   * when it ends.
   */
  refresh(orchestrationId: string): Promise<void> {
    const previous = this.refreshing.get(orchestrationId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.assemble(orchestrationId));
    this.refreshing.set(orchestrationId, next);
    const forget = () => {
      if (this.refreshing.get(orchestrationId) === next) this.refreshing.delete(orchestrationId);
    };
    next.then(forget, forget);
    return next;
  }

  private async assemble(orchestrationId: string): Promise<void> {
    const view = await this.wholeView(orchestrationId);
    const dir = await this.repository(orchestrationId);
    const git: HostGitOptions = { cwd: dir, hide: [this.root] };
    const heads = await branchHeads(git);
    for (const branch of branchesOf(view)) {
      const { branch: name, headCommit } = branch.changes;
      try {
        if (heads.get(name) !== headCommit) await this.bringIn(git, branch);
        if (branch.isResult) await hostGit(['symbolic-ref', 'HEAD', `refs/heads/${name}`], git);
      } catch (error) {
        this.logger.warn(
          { orchestrationId, key: branch.key, branch: name, problem: (error as Error).message },
          `git fetch from Hub: ${branch.label} is left out of the repository`,
        );
      }
    }
  }

  /** The orchestration with every one of its sessions, page after page. */
  private async wholeView(orchestrationId: string): Promise<OrchestrationView> {
    const first = await this.hub.getOrchestration(orchestrationId);
    const sessions = [...first.sessions];
    for (let cursor = first.nextCursor; cursor; ) {
      const page = await this.hub.getOrchestration(orchestrationId, { cursor });
      sessions.push(...page.sessions);
      cursor = page.nextCursor;
    }
    return { ...first, sessions, nextCursor: null };
  }

  /** The orchestration's bare repository, made (and configured) in a directory of its own, then moved into place. */
  private async repository(orchestrationId: string): Promise<string> {
    const dir = this.pathOf(orchestrationId);
    if (await this.has(orchestrationId)) return dir;
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const made = await mkdtemp(join(this.root, '.new-'));
    try {
      await hostGit(['init', '--quiet', '--bare', '--template=', made], { hide: [this.root] });
      for (const [key, value] of REPOSITORY_CONFIG) await hostGit(['config', key, value], { cwd: made, hide: [this.root] });
      await rename(made, dir);
    } finally {
      await rm(made, { recursive: true, force: true });
    }
    return dir;
  }

  /** Points the branch at its head commit, after fetching it when it is not here yet. */
  private async bringIn(git: HostGitOptions, branch: ServedBranch): Promise<void> {
    const { baseCommit, headCommit } = branch.changes;
    if (!COMMIT.test(baseCommit) || !COMMIT.test(headCommit)) throw new Error(`${branch.label} names no valid commits`);
    if (!(await hasCommit(git, headCommit))) await this.fetchChanges(git, branch);
    await hostGit(['update-ref', `refs/heads/${branch.changes.branch}`, headCommit], git);
  }

  /** A branch's commits from its bundle, the history up to its base first when missing; the bundle's HEAD must be the recorded head. */
  private async fetchChanges(git: HostGitOptions, { label, key, changes: { baseCommit, headCommit } }: ServedBranch): Promise<void> {
    if (!(await hasCommit(git, baseCommit))) {
      const base = () => this.bundles.getBaseBundleStream(baseCommit);
      await this.fetchBundle(git, `the bundle of the history up to ${baseCommit}`, base, `+refs/hub/base:${baseRef(baseCommit)}`);
    }
    await this.fetchBundle(git, `the bundle of ${label}`, () => this.bundles.getChangesBundleStream(key), `+HEAD:${INCOMING_REF}`);
    try {
      const fetched = await commitOf(git, INCOMING_REF);
      if (fetched !== headCommit) throw new Error(`the changes of ${label} end at ${fetched}, not at their recorded head ${headCommit}`);
    } finally {
      await hostGit(['update-ref', '-d', INCOMING_REF], git).catch(() => undefined);
    }
  }

  /** Fetches `refspec` from a bundle of the object store (through a temporary file), its objects checked. */
  private async fetchBundle(git: HostGitOptions, what: string, open: () => Promise<Readable | null>, refspec: string): Promise<void> {
    const content = await open();
    if (!content) throw new Error(`${what} is not in the output store`);
    await withBundleFile(this.root, content, (file) => fetchFromBundle(file, refspec, { ...git, timeoutMs: FETCH_TIMEOUT_MS })).catch(
      (error: Error) => {
        throw new Error(`${what} could not be fetched: ${error.message}`, { cause: error });
      },
    );
  }
}

/** Each branch's commit, by branch name. */
async function branchHeads(git: HostGitOptions): Promise<Map<string, string>> {
  const { stdout } = await hostGit(['for-each-ref', '--format=%(objectname) %(refname:lstrip=2)', 'refs/heads/'], {
    ...git,
    maxOutputBytes: REF_LISTING_BYTES,
  });
  return new Map(
    stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const space = line.indexOf(' ');
        return [line.slice(space + 1), line.slice(0, space)];
      }),
  );
}

async function hasCommit(git: HostGitOptions, commit: string): Promise<boolean> {
  try {
    await hostGit(['cat-file', '-e', `${commit}^{commit}`], git);
    return true;
  } catch (error) {
    if (error instanceof GitCommandError) return false;
    throw error;
  }
}

async function commitOf(git: HostGitOptions, ref: string): Promise<string> {
  return (await hostGit(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], git)).stdout.trim();
}
