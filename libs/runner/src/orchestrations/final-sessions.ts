import type { SessionView } from '@hub/contracts';

const REPOSITORIES_NAMED = 5;

/**
 * The sessions whose changes make an orchestration's result: those that completed with changes,
 * less those whose work a completed session with changes took up by depending on them directly (it
 * started from their merged changes, and its own are cumulative from its base, so they hold them).
 * In the order the view lists them: the order declared, which is the order they are merged in.
 */
export function finalSessions(sessions: readonly SessionView[]): SessionView[] {
  const changed = sessions.filter((session) => session.status === 'completed' && session.changes);
  const takenUp = new Set(changed.flatMap((session) => session.dependsOn));
  return changed.filter((session) => !takenUp.has(session.id));
}

/**
 * Why the final sessions cannot be combined because they worked in different repositories (null
 * for none: the one of a session without repository), or null when they share one.
 */
export function repositoryMismatch(finals: readonly SessionView[]): string | null {
  const byRepository = new Map<string | null, string[]>();
  for (const session of finals) {
    byRepository.set(session.repository, [...(byRepository.get(session.repository) ?? []), session.name ?? session.id]);
  }
  if (byRepository.size <= 1) return null;
  const named = [...byRepository].slice(0, REPOSITORIES_NAMED).map(([repository, names]) => `${names.join(', ')} in ${repository ?? 'no repository'}`);
  const more = byRepository.size - named.length;
  return `the final sessions worked in ${byRepository.size} repositories, which cannot be combined: ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`.slice(0, 2000);
}
