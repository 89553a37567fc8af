/** What a hidden host directory is shown as, when it has no place in the container to be named by. */
export const HIDDEN_HOST_DIR = '<runner>';

/** A host directory shown under another name: the container path it is mounted at, say. */
export interface HostDirAlias {
  hostDir: string;
  shownAs: string;
}

/**
 * `message` fit to show users: every occurrence of each host directory replaced, the longest
 * first (so an attempt's output directory becomes `/hub/output` before the data directory holding
 * it becomes `<runner>`). A plain string is shown as `<runner>`. Occurrences are replaced wherever
 * they are, even inside a longer name (`/data/hub-old` gives `<runner>-old`): a prefix of a host
 * path is a host path too. A trailing slash is ignored; `/` and '' are (they would hide every path).
 */
export function withoutHostPaths(message: string, hostDirs: readonly (string | HostDirAlias)[]): string {
  const replacements = hostDirs
    .map((dir) => (typeof dir === 'string' ? { hostDir: dir, shownAs: HIDDEN_HOST_DIR } : dir))
    .map(({ hostDir, shownAs }) => ({ hostDir: hostDir.replace(/\/+$/, ''), shownAs }))
    .filter(({ hostDir }) => hostDir.length > 0)
    .sort((a, b) => b.hostDir.length - a.hostDir.length);
  let shown = message;
  for (const { hostDir, shownAs } of replacements) shown = shown.split(hostDir).join(shownAs);
  return shown;
}
