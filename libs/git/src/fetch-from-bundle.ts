import { hostGit, type HostGitOptions, type HostGitResult } from './host-git';

/**
 * Fetches `refspec` (`+HEAD:refs/hub/incoming`) from a git bundle file into the repository at
 * `options.cwd`: every object checked (fetch.fsckObjects), no tags, no FETCH_HEAD, no gc, no submodules.
 */
export function fetchFromBundle(bundleFile: string, refspec: string, options: HostGitOptions): Promise<HostGitResult> {
  return hostGit(
    [
      '-c',
      'fetch.fsckObjects=true',
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      '--no-auto-gc',
      '--no-recurse-submodules',
      bundleFile,
      refspec,
    ],
    options,
  );
}
