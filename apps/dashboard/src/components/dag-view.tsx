import { createContext, memo, useContext, useMemo } from 'react';
import { Background, Handle, MarkerType, Panel, Position, ReactFlow, useReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import type { SessionView } from '@hub/contracts';
import { layoutDag, NODE_HEIGHT, NODE_WIDTH, shapeKey } from '../graph/dag-layout';
import { formatDuration, sessionDurationMs, sessionLabel } from '../model/format';
import { statusLabel } from '../model/statuses';
import { href } from '../routing/routes';
import { Link, navigate } from '../routing/router';

type SessionNode = Node<Record<string, never>, 'session'>;

/**
 * The sessions drawn, and the time, for the nodes to read: React Flow's nodes stay the same objects
 * while statuses change (new node objects would make it measure them again, and drop their edges meanwhile).
 */
const DrawnSessions = createContext<{ byId: ReadonlyMap<string, SessionView>; now: number }>({ byId: new Map(), now: 0 });

/**
 * One session of the graph: coloured by its status (and saying it in words), its name a link to its
 * page; its status, duration and the reason it ended show on hover and on focus (the link's
 * description, so a screen reader says them too).
 */
function SessionNodeView({ id }: NodeProps<SessionNode>) {
  const { byId, now } = useContext(DrawnSessions);
  const session = byId.get(id);
  if (!session) return null;
  const duration = sessionDurationMs(session, now);
  const tip = `dag-tip-${session.id}`;
  const timing = duration === undefined ? 'not started' : `${session.finishedAt ? 'ran' : 'running for'} ${formatDuration(duration)}`;
  return (
    <div className={`dag-node status-${session.status}`} data-status={session.status} data-session={sessionLabel(session)}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <Link href={href.session(session.id)} className="dag-node-name" aria-describedby={tip}>
        {sessionLabel(session)}
      </Link>
      <span className="dag-node-meta">
        {statusLabel(session.status)}
        {duration === undefined ? '' : ` · ${formatDuration(duration)}`}
      </span>
      <span role="tooltip" id={tip} className="dag-tip">
        {statusLabel(session.status)}, {timing}
        {session.exitCode !== null && !session.statusReason?.includes(`code ${session.exitCode}`) ? `, exit code ${session.exitCode}` : ''}
        {session.statusReason ? `: ${session.statusReason}` : ''}
      </span>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

const NODE_TYPES = { session: SessionNodeView };

/** Zoom buttons in words (React Flow's own are icons in an unnamed group). */
function GraphControls() {
  const flow = useReactFlow();
  return (
    <Panel position="top-right">
      <div className="graph-controls" role="group" aria-label="Zoom the graph">
        <button type="button" className="secondary" onClick={() => void flow.zoomIn()}>
          Zoom in
        </button>
        <button type="button" className="secondary" onClick={() => void flow.zoomOut()}>
          Zoom out
        </button>
        <button type="button" className="secondary" onClick={() => void flow.fitView({ padding: 0.08, maxZoom: 1 })}>
          Fit
        </button>
      </div>
    </Panel>
  );
}

/** A short number for a long key: React Flow is made anew (and fits the view) when the graph's shape changes. */
function hashOf(text: string): number {
  let hash = 5381;
  for (let i = 0; i < text.length; i++) hash = (hash * 33) ^ text.charCodeAt(i);
  return hash >>> 0;
}

/**
 * An orchestration's DAG (dagre's layout, React Flow's drawing): each session a node, an arrow from
 * each dependency to the session that waits for it. The layout is made again only when sessions or
 * dependencies change, not their statuses. Read-only: nothing is dragged, selected or connected; a
 * click on a node opens its session (which also makes React Flow let the pointer through to the
 * nodes, so hovering one shows its details).
 */
export const DagView = memo(function DagView({ sessions, now, label }: { sessions: SessionView[]; now: number; label: string }) {
  const shape = shapeKey(sessions);
  const layout = useMemo(() => layoutDag(sessions), [shape]); // the shape alone: not the statuses
  const nodes = useMemo<SessionNode[]>(
    () =>
      layout.nodes.map(({ id, x, y }) => ({
        id,
        type: 'session',
        position: { x, y },
        data: {},
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        draggable: false,
        selectable: false,
        connectable: false,
        focusable: false,
      })),
    [layout],
  );
  const drawn = useMemo(() => ({ byId: new Map(sessions.map((session) => [session.id, session])), now }), [sessions, now]);
  const edges = useMemo<Edge[]>(
    () =>
      layout.edges.map((edge) => ({
        ...edge,
        type: 'smoothstep',
        focusable: false,
        selectable: false,
        markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
      })),
    [layout],
  );
  const height = Math.min(560, Math.max(200, layout.height + 48));
  return (
    <section className="dag" aria-label={label} style={{ height }}>
      <DrawnSessions.Provider value={drawn}>
        <ReactFlow
          key={hashOf(shape)}
          nodes={nodes}
          edges={edges}
          nodeTypes={NODE_TYPES}
          fitView
          fitViewOptions={{ padding: 0.08, maxZoom: 1 }}
          minZoom={0.05}
          maxZoom={1.5}
          nodesDraggable={false}
          nodesConnectable={false}
          nodesFocusable={false}
          edgesFocusable={false}
          elementsSelectable={false}
          onNodeClick={(_event, node) => navigate(href.session(node.id))}
          zoomOnScroll={false}
          preventScrolling={false}
          colorMode="light"
        >
          <Background gap={18} />
          <GraphControls />
        </ReactFlow>
      </DrawnSessions.Provider>
    </section>
  );
});
