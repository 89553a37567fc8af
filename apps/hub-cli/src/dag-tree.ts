import type { SessionView } from '@hub/contracts';

/** One line of an orchestration drawn as a tree. */
export interface TreeRow {
  session: SessionView;
  /** The tree's branches before the session: '', '├─ ', '│  └─ ', … */
  prefix: string;
  /** The names of all its dependencies when it has more than one (it is drawn under the first). */
  dependencies: string[];
}

/** A session's name, or the start of its id for a session without one. */
export const displayName = (session: Pick<SessionView, 'id' | 'name'>): string => session.name ?? session.id.slice(0, 8);

/**
 * An orchestration's DAG as a tree: each session under its first dependency (a session with more
 * than one names them all), siblings in the order declared; sessions depending on none (or on
 * sessions not listed) are the roots.
 */
export function dagRows(sessions: readonly SessionView[]): TreeRow[] {
  const byId = new Map(sessions.map((session) => [session.id, session]));
  const order = new Map(sessions.map((session, i) => [session.id, i]));
  // The API lists a session's dependencies in no particular order; declared first is drawn first.
  const dependenciesOf = (session: SessionView) =>
    [...session.dependsOn].sort((a, b) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity));
  const children = new Map<string, SessionView[]>();
  const roots: SessionView[] = [];
  for (const session of sessions) {
    const parent = dependenciesOf(session).find((id) => byId.has(id));
    if (parent === undefined) roots.push(session);
    else children.set(parent, [...(children.get(parent) ?? []), session]);
  }
  const rows: TreeRow[] = [];
  const drawn = new Set<string>();
  const draw = (session: SessionView, prefix: string, indent: string) => {
    if (drawn.has(session.id)) return;
    drawn.add(session.id);
    const dependencies = session.dependsOn.length > 1 ? dependenciesOf(session).map((id) => displayName(byId.get(id) ?? { id, name: null })) : [];
    rows.push({ session, prefix, dependencies });
    const below = (children.get(session.id) ?? []).filter((child) => !drawn.has(child.id));
    below.forEach((child, i) => {
      const last = i === below.length - 1;
      draw(child, `${indent}${last ? '└─ ' : '├─ '}`, `${indent}${last ? '   ' : '│  '}`);
    });
  };
  for (const root of roots) draw(root, '', '');
  // Only a cycle (which the API refuses) leaves sessions undrawn: they are shown as roots all the same.
  for (const session of sessions) draw(session, '', '');
  return rows;
}
