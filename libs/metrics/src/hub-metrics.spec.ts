import { Registry } from 'prom-client';
import { BoundedLabels, hubCounter, hubGauge, hubHistogram, OTHER, processMetrics } from './hub-metrics';

const SESSION_ID = '3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7';

describe('bounded labels', () => {
  const labels = new BoundedLabels({ route: ['getSession', 'listSessions'], method: ['GET', 'POST'] });

  it('keeps a known value and records anything else as other', () => {
    expect(labels.of({ route: 'getSession', method: 'GET' })).toEqual({ route: 'getSession', method: 'GET' });
    expect(labels.of({ route: `/api/v1/sessions/${SESSION_ID}`, method: 'BREW' })).toEqual({ route: OTHER, method: OTHER });
  });

  it('lists every combination of known values', () => {
    expect(labels.combinations()).toEqual([
      { route: 'getSession', method: 'GET' },
      { route: 'getSession', method: 'POST' },
      { route: 'listSessions', method: 'GET' },
      { route: 'listSessions', method: 'POST' },
    ]);
  });
});

describe('hub metrics', () => {
  let registry: Registry;
  beforeEach(() => (registry = new Registry()));

  it('never makes a series of a value outside the bounds, however many come', async () => {
    const moves = hubCounter(registry, { name: 'hub_test_moves_total', help: 'moves', labels: { to: ['running', 'completed'] }, startAtZero: true });
    for (let i = 0; i < 100; i++) moves.inc({ to: `session-${i}` });
    moves.inc({ to: 'completed' });

    const [metric] = (await registry.getMetricsAsJSON()).filter((m) => m.name === 'hub_test_moves_total');
    expect(metric.values.map((v) => [v.labels['to'], v.value]).sort()).toEqual([
      ['completed', 1],
      [OTHER, 100],
      ['running', 0],
    ]);
    expect(await registry.metrics()).not.toContain('session-');
  });

  it('starts every series at 0 when asked, so that a rate or a delta has a start', async () => {
    hubCounter(registry, { name: 'hub_test_errors_total', help: 'errors', labels: { stage: ['create', 'start'] }, startAtZero: true });
    hubHistogram(registry, { name: 'hub_test_seconds', help: 'time', labels: { status: ['failed'] }, buckets: [1, 10], startAtZero: true });
    hubCounter(registry, { name: 'hub_test_requests_total', help: 'requests', labels: { route: ['getSession'] } });

    const text = await registry.metrics();
    expect(text).toContain('hub_test_errors_total{stage="create"} 0');
    expect(text).toContain('hub_test_errors_total{stage="start"} 0');
    expect(text).toContain('hub_test_seconds_count{status="failed"} 0');
    expect(text).not.toMatch(/^hub_test_requests_total/m);
  });

  it('shares a counter registered twice under one name (two instances of a part in one process)', async () => {
    const spec = { name: 'hub_test_decisions_total', help: 'decisions', labels: { decision: ['resolved', 'failed'] } };
    hubCounter(registry, spec).inc({ decision: 'resolved' });
    hubCounter(registry, spec).inc({ decision: 'resolved' });

    expect(await registry.metrics()).toContain('hub_test_decisions_total{decision="resolved"} 2');
  });

  it('reads a gauge when scraped, from the part that registered it last', async () => {
    let slots = 1;
    const spec = { name: 'hub_test_slots', help: 'slots', labels: { state: ['used'] } };
    hubGauge(registry, spec, (gauge) => gauge.set({ state: 'used' }, -1));
    hubGauge(registry, spec, (gauge) => gauge.set({ state: 'used' }, slots));

    expect(await registry.metrics()).toContain('hub_test_slots{state="used"} 1');
    slots = 3;
    expect(await registry.metrics()).toContain('hub_test_slots{state="used"} 3');
  });

  it("names Node's own metrics hub_… in the process's registry", async () => {
    const text = await processMetrics().metrics();
    expect(text).toContain('hub_process_cpu_user_seconds_total');
    expect(text).toMatch(/^hub_nodejs_heap_size_used_bytes \d+/m);
  });
});
