import { layoutDag, NODE_WIDTH, QUICK_LAYOUT_ABOVE, shapeKey } from './dag-layout';

describe('the DAG layout', () => {
  const diamond = [
    { id: 'a', dependsOn: [] },
    { id: 'b', dependsOn: ['a'] },
    { id: 'c', dependsOn: ['a'] },
    { id: 'd', dependsOn: ['b', 'c'] },
  ];

  it('puts each dependency left of the sessions that wait for it, with an edge from it to them', () => {
    const { nodes, edges } = layoutDag(diamond);
    const x = Object.fromEntries(nodes.map((node) => [node.id, node.x]));
    expect(x.a + NODE_WIDTH).toBeLessThan(x.b);
    expect(x.b).toBe(x.c);
    expect(x.c + NODE_WIDTH).toBeLessThan(x.d);
    expect(edges.map((edge) => `${edge.source}->${edge.target}`).sort()).toEqual(['a->b', 'a->c', 'b->d', 'c->d']);
  });

  it('keeps the order of dependencies in the quick layout too', () => {
    const chain = Array.from({ length: QUICK_LAYOUT_ABOVE + 1 }, (_, i) => ({ id: `c${i}`, dependsOn: i ? [`c${i - 1}`] : [] }));
    const x = layoutDag(chain).nodes.map((node) => node.x);
    expect(x.every((value, i) => i === 0 || value > x[i - 1])).toBe(true);
  });

  it('keeps sessions of one rank apart', () => {
    const { nodes } = layoutDag(diamond);
    const [b, c] = ['b', 'c'].map((id) => nodes.find((node) => node.id === id)!);
    expect(Math.abs(b.y - c.y)).toBeGreaterThanOrEqual(62);
  });

  it('leaves out dependencies not drawn (a page of a large orchestration), and repeated ones', () => {
    const { nodes, edges } = layoutDag([{ id: 'x', dependsOn: ['elsewhere', 'y', 'y'] }, { id: 'y', dependsOn: [] }]);
    expect(nodes.map((node) => node.id)).toEqual(['x', 'y']);
    expect(edges).toEqual([{ id: 'y->x', source: 'y', target: 'x' }]);
  });

  it('lays out 500 sessions (the quick layout) in under a second and a half, even on a busy machine', () => {
    const sessions = Array.from({ length: 500 }, (_, i) => ({ id: `s${i}`, dependsOn: i < 20 ? [] : [`s${i - 20}`, `s${i - 19 - (i % 3)}`] }));
    const began = performance.now();
    expect(layoutDag(sessions).nodes).toHaveLength(500);
    expect(performance.now() - began).toBeLessThan(1_500);
  });

  it('changes its shape key with the sessions and their dependencies, not with anything else', () => {
    expect(shapeKey(diamond)).toBe(shapeKey(diamond.map((s) => ({ ...s, status: 'running' }))));
    expect(shapeKey(diamond)).not.toBe(shapeKey([...diamond, { id: 'e', dependsOn: ['d'] }]));
  });
});
