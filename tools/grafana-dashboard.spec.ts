// The Grafana dashboard in docs/grafana reads only metrics Hub's services export: every hub_… name in
// its PromQL is one a part of a service registers (a hubCounter, hubHistogram or hubGauge call in the
// sources, its name written out) or one of Node's that every service exports (processMetrics). A
// metric renamed or removed breaks this test, not the dashboard someone imported.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { processMetrics } from '@hub/metrics';

const ROOT = join(__dirname, '..');
const DASHBOARD = join(ROOT, 'docs/grafana/hub-dashboard.json');

/** What a metric of each kind is exported as: a histogram as its buckets, sum and count. */
const SERIES_OF = {
  counter: (name: string) => [name],
  gauge: (name: string) => [name],
  histogram: (name: string) => [`${name}_bucket`, `${name}_sum`, `${name}_count`],
  summary: (name: string) => [name, `${name}_sum`, `${name}_count`],
} as const;
const REGISTERING = { hubCounter: 'counter', hubGauge: 'gauge', hubHistogram: 'histogram' } as const;

interface Panel {
  title?: string;
  type: string;
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string; datasource?: { uid?: string } }[];
  panels?: Panel[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The series of every metric the services' sources register, and the calls whose name is not written out. */
function registeredInSources(): { series: Set<string>; unreadable: string[] } {
  const series = new Set<string>();
  const unreadable: string[] = [];
  for (const file of ['apps', 'libs'].flatMap((dir) => sourceFiles(join(ROOT, dir)))) {
    const text = readFileSync(file, 'utf8');
    if (!/hub(Counter|Gauge|Histogram)\(/.test(text)) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && Object.hasOwn(REGISTERING, node.expression.text)) {
        const kind = REGISTERING[node.expression.text as keyof typeof REGISTERING];
        const spec = node.arguments[1];
        const name =
          spec && ts.isObjectLiteralExpression(spec)
            ? spec.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && p.name.getText() === 'name')?.initializer
            : undefined;
        if (name && ts.isStringLiteralLike(name)) for (const s of SERIES_OF[kind](name.text)) series.add(s);
        else unreadable.push(`${relative(ROOT, file)}: ${node.getText().slice(0, 80)}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true));
  }
  return { series, unreadable };
}

/** The series of Node's metrics every service exports under the hub_ prefix. */
async function processSeries(): Promise<string[]> {
  const metrics = await processMetrics().getMetricsAsJSON();
  return metrics.flatMap((m) => SERIES_OF[String(m.type) as keyof typeof SERIES_OF]?.(m.name) ?? [m.name]);
}

describe('the Grafana dashboard (docs/grafana/hub-dashboard.json)', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { schemaVersion: number; __inputs: { name: string }[]; panels: Panel[] };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
  const expressions = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));

  it('is an importable dashboard: each panel queries the Prometheus chosen at import (${DS_PROMETHEUS})', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.__inputs.map((i) => i.name)).toEqual(['DS_PROMETHEUS']);
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of panels) {
      expect({ panel: panel.title, uid: panel.datasource?.uid, queries: (panel.targets?.length ?? 0) > 0 }).toEqual({
        panel: panel.title,
        uid: '${DS_PROMETHEUS}',
        queries: true,
      });
      for (const target of panel.targets ?? []) {
        expect({ panel: panel.title, uid: target.datasource?.uid }).toEqual({ panel: panel.title, uid: '${DS_PROMETHEUS}' });
      }
    }
    expect(expressions.every((e) => e.expr.trim() !== '')).toBe(true);
  });

  it('reads only metrics the services register', async () => {
    const { series, unreadable } = registeredInSources();
    // A metric whose name is computed could not be checked: write it out.
    expect(unreadable).toEqual([]);
    // The scan finds every part's metrics (registry, runner, resolver, events, HTTP), not a few.
    expect([...series].filter((s) => !s.endsWith('_bucket') && !s.endsWith('_sum') && !s.endsWith('_count')).length).toBeGreaterThanOrEqual(10);
    for (const s of await processSeries()) series.add(s);

    const used = expressions.flatMap(({ panel, expr }) => [...expr.matchAll(/\bhub_[A-Za-z0-9_:]+/g)].map(([metric]) => ({ panel, metric })));
    expect(used.length).toBeGreaterThanOrEqual(expressions.length);
    expect(used.filter(({ metric }) => !series.has(metric))).toEqual([]);
  });
});
