const FILES_NAMED = 5;
const NAME_CHARS = 200;

/**
 * Why a session cannot start, for users: "impl-b's changes conflict with impl-a's in src/app.py".
 * File names come from agents' commits: each is cut to 200 characters and quoted (JSON) when it holds
 * anything but plain path characters, and at most five are named; the message stays short.
 */
export function conflictMessage(sessionName: string, collidesWith: readonly string[], files: readonly string[], fileCount: number): string {
  const others = collidesWith.length ? `${listed(collidesWith.map((name) => `${plain(name)}'s`))}` : 'the base branch';
  const named = files.slice(0, FILES_NAMED).map(shownPath);
  const more = Math.max(fileCount, files.length) - named.length;
  const where = more > 0 ? `${named.join(', ')} and ${more} more file${more === 1 ? '' : 's'}` : listed(named);
  return `${plain(sessionName)}'s changes conflict with ${others} in ${where}`;
}

function listed(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** A path as it can be shown: as it is when plain, else quoted so no character can mislead. */
export function shownPath(path: string): string {
  const cut = path.length > NAME_CHARS ? `${path.slice(0, NAME_CHARS)}…` : path;
  return /^[\w./@+-]+$/.test(path) ? cut : JSON.stringify(cut);
}

function plain(name: string): string {
  return name.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, NAME_CHARS);
}
