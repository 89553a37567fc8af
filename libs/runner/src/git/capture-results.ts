/**
 * Reading what the capture helper wrote. The helper ran git on an agent's repository, so each file is
 * parsed as hostile input: bounded, and anything that does not look as git writes it is skipped or
 * refused, never trusted.
 */

/** One changed file: lines added and removed, null for a binary file. */
export interface ChangedFile {
  path: string;
  added: number | null;
  removed: number | null;
}

export interface ChangeTotals {
  files: number;
  added: number;
  removed: number;
}

export interface BundleHeader {
  version: 2 | 3;
  /** Commits the receiving repository must have (the base, for base..HEAD). */
  prerequisites: string[];
  refs: { commit: string; name: string }[];
}

export const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** Paths longer than this are cut (with …): they are for showing. */
export const MAX_SHOWN_PATH_CHARS = 1024;

/** The commit id written to `head`, or null when the file holds anything else. */
export function parseHead(text: string): string | null {
  const line = text.trim();
  return COMMIT_ID.test(line) ? line : null;
}

/**
 * `git diff --numstat -z --no-renames`: records `added<TAB>removed<TAB>path<NUL>`, `-` for a binary
 * file's counts. The file may have been cut anywhere: a record without its NUL is dropped. At most
 * `maxFiles` are kept; malformed records are skipped.
 */
export function parseNumstat(raw: Buffer, maxFiles: number): { files: ChangedFile[]; records: number } {
  const files: ChangedFile[] = [];
  let records = 0;
  let start = 0;
  for (let end = raw.indexOf(0, start); end !== -1; start = end + 1, end = raw.indexOf(0, start)) {
    const file = parseRecord(raw.subarray(start, end).toString('utf8'));
    if (!file) continue;
    records++;
    if (files.length < maxFiles) files.push(file);
  }
  return { files, records };
}

function parseRecord(record: string): ChangedFile | null {
  const first = record.indexOf('\t');
  const second = first === -1 ? -1 : record.indexOf('\t', first + 1);
  if (second === -1) return null;
  const added = count(record.slice(0, first));
  const removed = count(record.slice(first + 1, second));
  const path = record.slice(second + 1);
  if (added === undefined || removed === undefined || !path || (added === null) !== (removed === null)) return null;
  return { path: path.length > MAX_SHOWN_PATH_CHARS ? `${path.slice(0, MAX_SHOWN_PATH_CHARS)}…` : path, added, removed };
}

/** A count: digits (at most 15), or `-` (binary: null). undefined when it is neither. */
function count(text: string): number | null | undefined {
  if (text === '-') return null;
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

/**
 * `git diff --shortstat` (LC_ALL=C): ` 3 files changed, 10 insertions(+), 2 deletions(-)`, either
 * count left out when 0; empty when nothing changed. null when the text is not that.
 */
export function parseShortstat(text: string): ChangeTotals | null {
  const line = text.trim();
  if (!line) return { files: 0, added: 0, removed: 0 };
  const match = /^(\d{1,15}) files? changed(?:, (\d{1,15}) insertions?\(\+\))?(?:, (\d{1,15}) deletions?\(-\))?$/.exec(line);
  if (!match) return null;
  return { files: Number(match[1]), added: Number(match[2] ?? 0), removed: Number(match[3] ?? 0) };
}

/**
 * A git bundle's header (`# v2 git bundle` or v3 with `@capability` lines, then `-<commit> …`
 * prerequisites and `<commit> <ref>` lines, then an empty line and the pack), read from its first
 * bytes. null when they do not hold a whole, well-formed header.
 */
export function parseBundleHeader(start: Buffer): BundleHeader | null {
  const end = start.indexOf('\n\n');
  if (end === -1) return null;
  const [signature, ...lines] = start.subarray(0, end).toString('utf8').split('\n');
  const version = signature === '# v2 git bundle' ? 2 : signature === '# v3 git bundle' ? 3 : null;
  if (!version) return null;
  const header: BundleHeader = { version, prerequisites: [], refs: [] };
  for (const line of lines) {
    if (version === 3 && line.startsWith('@')) continue;
    const prerequisite = /^-([0-9a-f]{40}(?:[0-9a-f]{24})?)(?: .*)?$/.exec(line);
    if (prerequisite) {
      header.prerequisites.push(prerequisite[1]);
      continue;
    }
    const ref = /^([0-9a-f]{40}(?:[0-9a-f]{24})?) (\S{1,1000})$/.exec(line);
    if (!ref) return null;
    header.refs.push({ commit: ref[1], name: ref[2] });
  }
  return header;
}
