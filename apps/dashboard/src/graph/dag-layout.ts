import dagre from '@dagrejs/dagre';

/** What the layout needs of a session: who it is and whom it depends on. */
export interface DagSession {
  id: string;
  dependsOn: readonly string[];
}

export interface PlacedNode {
  id: string;
  /** Top-left corner (React Flow's node position). */
  x: number;
  y: number;
}

export interface DagEdge {
  id: string;
  /** The dependency… */
  source: string;
  /** …and the session that waits for it. */
  target: string;
}

export interface DagLayout {
  nodes: PlacedNode[];
  edges: DagEdge[];
  width: number;
  height: number;
}

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 62;
/**
 * Past this many sessions the layout trades some looks for time: ranks by longest path and keeps
 * dagre's first ordering (network simplex and the crossing search take seconds at 500 sessions,
 * these ~0.1 s), so a large page of an orchestration draws without freezing the page.
 */
export const QUICK_LAYOUT_ABOVE = 120;

/**
 * The DAG laid out by dagre, dependencies left of their dependents (ranked left to right): an edge
 * from each dependency to the session that waits for it. A dependency not among `sessions` (an
 * orchestration drawn in part) is left out with its edges. Large graphs get the quick layout
 * (QUICK_LAYOUT_ABOVE).
 */
export function layoutDag(sessions: readonly DagSession[]): DagLayout {
  const graph = new dagre.graphlib.Graph<object, { width: number; height: number; x?: number; y?: number }, object>();
  const quick = sessions.length > QUICK_LAYOUT_ABOVE;
  graph.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 56, marginx: 8, marginy: 8, ...(quick ? { ranker: 'longest-path' } : {}) });
  graph.setDefaultEdgeLabel(() => ({}));
  const present = new Set(sessions.map((session) => session.id));
  for (const session of sessions) graph.setNode(session.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const edges: DagEdge[] = [];
  for (const session of sessions) {
    for (const dependency of new Set(session.dependsOn)) {
      if (!present.has(dependency)) continue;
      graph.setEdge(dependency, session.id);
      edges.push({ id: `${dependency}->${session.id}`, source: dependency, target: session.id });
    }
  }
  dagre.layout(graph, quick ? { disableOptimalOrderHeuristic: true } : {});
  const nodes = sessions.map((session) => {
    const { x = 0, y = 0 } = graph.node(session.id);
    return { id: session.id, x: x - NODE_WIDTH / 2, y: y - NODE_HEIGHT / 2 };
  });
  const { width = 0, height = 0 } = graph.graph() as { width?: number; height?: number };
  return { nodes, edges, width, height };
}

/** A key that changes when the graph's shape does (not its statuses): the layout is made again only then. */
export const shapeKey = (sessions: readonly DagSession[]): string => sessions.map((s) => `${s.id}<${s.dependsOn.join(',')}`).join(';');
