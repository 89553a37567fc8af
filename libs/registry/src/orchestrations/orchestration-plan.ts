import { badRequest, OrchestrationSession } from '@hub/contracts';

/**
 * Checks the sessions of an orchestration before anything is stored: names unique, every
 * dependency names a session of the orchestration, none depends on itself, and no cycle. Throws a
 * bad_request that names the offending sessions (and, for a cycle, the cycle).
 */
/** At most this many offenders of each kind are named, so an error stays readable (and small). */
const NAMED = 20;
const list = (items: string[]) => (items.length > NAMED ? `${items.slice(0, NAMED).join(', ')} and ${items.length - NAMED} more` : items.join(', '));

export function checkOrchestrationPlan(sessions: readonly OrchestrationSession[]): void {
  const problems: string[] = [];
  const details: Record<string, unknown> = {};

  const counts = new Map<string, number>();
  for (const s of sessions) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
  const duplicates = [...counts].filter(([, n]) => n > 1).map(([name]) => name);
  if (duplicates.length) {
    problems.push(`session names must be unique; used more than once: ${list(duplicates)}`);
    details['duplicates'] = duplicates.slice(0, NAMED);
  }

  const selfDependent = sessions.filter((s) => s.dependsOn.includes(s.name)).map((s) => s.name);
  if (selfDependent.length) {
    problems.push(`a session cannot depend on itself: ${list(selfDependent)}`);
    details['selfDependent'] = selfDependent.slice(0, NAMED);
  }

  const unknown = sessions.flatMap((s) =>
    s.dependsOn.filter((name) => !counts.has(name)).map((dependsOn) => ({ session: s.name, dependsOn })),
  );
  if (unknown.length) {
    problems.push(
      `dependencies on sessions that are not in the orchestration: ${list(unknown.map((u) => `${u.session} → ${u.dependsOn}`))}`,
    );
    details['unknownDependencies'] = unknown.slice(0, NAMED);
  }
  if (problems.length) throw badRequest(`invalid orchestration: ${problems.join('; ')}`, details);

  const cycle = findCycle(sessions);
  if (cycle) {
    throw badRequest(`invalid orchestration: dependencies form a cycle: ${cycle.join(' → ')}`, { cycle });
  }
}

/** A cycle as a path of names that starts and ends with the same one, or null. Iterative: no stack overflow at 10,000 sessions. */
function findCycle(sessions: readonly OrchestrationSession[]): string[] | null {
  const dependsOn = new Map(sessions.map((s) => [s.name, s.dependsOn]));
  const state = new Map<string, 'visiting' | 'done'>();
  for (const root of dependsOn.keys()) {
    if (state.has(root)) continue;
    const path: string[] = [];
    const stack: { name: string; next: number }[] = [{ name: root, next: 0 }];
    state.set(root, 'visiting');
    path.push(root);
    while (stack.length) {
      const frame = stack[stack.length - 1];
      const edges = dependsOn.get(frame.name)!;
      if (frame.next < edges.length) {
        const target = edges[frame.next++];
        if (state.get(target) === 'visiting') return [...path.slice(path.indexOf(target)), target];
        if (!state.has(target)) {
          state.set(target, 'visiting');
          path.push(target);
          stack.push({ name: target, next: 0 });
        }
      } else {
        state.set(frame.name, 'done');
        path.pop();
        stack.pop();
      }
    }
  }
  return null;
}
