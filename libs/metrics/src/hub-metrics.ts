import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type { Registry as MetricsRegistry } from 'prom-client';

/** Every metric Hub exports is named hub_…, Node's own included (hub_process_cpu_seconds_total, hub_nodejs_heap_size_used_bytes, …). */
export const METRICS_PREFIX = 'hub_';

/** What a label value is recorded as when it is not one of its label's known values. */
export const OTHER = 'other';

/**
 * The values each label of a metric may take, known in advance: anything else is recorded as `other`.
 * A label never carries a session id, a path or any other value a caller chooses, so a metric has a
 * bounded number of series whatever happens.
 */
export type LabelBounds<L extends string> = { readonly [K in L]: readonly string[] };
export type LabelValues<L extends string> = { readonly [K in L]: string | number };

export interface MetricSpec<L extends string> {
  name: string;
  help: string;
  labels: LabelBounds<L>;
  /** Every combination of known values is a series from the start, at 0 (so that a rate or a delta has a start): for small label sets. */
  startAtZero?: boolean;
}

let processRegistry: Registry | undefined;

/** This process's metrics: Node's defaults, and every hub_… metric its parts register. What /metrics answers. */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: METRICS_PREFIX });
  }
  return processRegistry;
}

/** Keeps a metric's label values within their bounds. */
export class BoundedLabels<L extends string> {
  private readonly known: [L, Set<string>][];

  constructor(bounds: LabelBounds<L>) {
    this.known = (Object.keys(bounds) as L[]).map((label) => [label, new Set(bounds[label])]);
  }

  get names(): L[] {
    return this.known.map(([label]) => label);
  }

  /** Each label's value if it is a known one, else `other`. */
  of(values: LabelValues<L>): Record<L, string> {
    const bounded = {} as Record<L, string>;
    for (const [label, known] of this.known) {
      const value = String(values[label]);
      bounded[label] = known.has(value) ? value : OTHER;
    }
    return bounded;
  }

  /** Every combination of known values. */
  combinations(): Record<L, string>[] {
    let all: Record<L, string>[] = [{} as Record<L, string>];
    for (const [label, known] of this.known) all = all.flatMap((partial) => [...known].map((value) => ({ ...partial, [label]: value })));
    return all;
  }
}

export class HubCounter<L extends string> {
  constructor(
    private readonly counter: Counter<L>,
    private readonly labels: BoundedLabels<L>,
  ) {}

  inc(values: LabelValues<L> = {} as LabelValues<L>, by = 1): void {
    this.counter.inc(this.labels.of(values), by);
  }
}

export class HubHistogram<L extends string> {
  constructor(
    private readonly histogram: Histogram<L>,
    private readonly labels: BoundedLabels<L>,
  ) {}

  observe(values: LabelValues<L>, value: number): void {
    this.histogram.observe(this.labels.of(values), value);
  }
}

export class HubGauge<L extends string> {
  constructor(
    private readonly gauge: Gauge<L>,
    private readonly labels: BoundedLabels<L>,
  ) {}

  set(values: LabelValues<L>, value: number): void {
    this.gauge.set(this.labels.of(values), value);
  }

  /** Forgets every series (a gauge whose source could not be read says nothing rather than something stale). */
  reset(): void {
    this.gauge.reset();
  }
}

/**
 * A counter on `registry`, or the one already registered there under its name (two instances of a part
 * in one process, as in tests, count together).
 */
export function hubCounter<L extends string = never>(registry: Registry, spec: MetricSpec<L>): HubCounter<L> {
  const labels = new BoundedLabels(spec.labels);
  const existing = registry.getSingleMetric(spec.name) as Counter<L> | undefined;
  if (existing) return new HubCounter(existing, labels);
  const counter = new Counter<L>({ name: spec.name, help: spec.help, labelNames: labels.names, registers: [registry] });
  if (spec.startAtZero) for (const values of labels.combinations()) counter.inc(values, 0);
  return new HubCounter(counter, labels);
}

/** A histogram on `registry` (in seconds, say its name), or the one already registered there. */
export function hubHistogram<L extends string = never>(registry: Registry, spec: MetricSpec<L> & { buckets: number[] }): HubHistogram<L> {
  const labels = new BoundedLabels(spec.labels);
  const existing = registry.getSingleMetric(spec.name) as Histogram<L> | undefined;
  if (existing) return new HubHistogram(existing, labels);
  const histogram = new Histogram<L>({ name: spec.name, help: spec.help, labelNames: labels.names, buckets: spec.buckets, registers: [registry] });
  if (spec.startAtZero) for (const values of labels.combinations()) histogram.zero(values);
  return new HubHistogram(histogram, labels);
}

/**
 * A gauge read when /metrics is scraped: `collect` sets its values then. It replaces a gauge of the
 * same name on `registry`: the part created last is the one read.
 */
export function hubGauge<L extends string = never>(
  registry: Registry,
  spec: MetricSpec<L>,
  collect: (gauge: HubGauge<L>) => void | Promise<void>,
): HubGauge<L> {
  const labels = new BoundedLabels(spec.labels);
  registry.removeSingleMetric(spec.name);
  let hub: HubGauge<L> | undefined;
  const gauge = new Gauge<L>({
    name: spec.name,
    help: spec.help,
    labelNames: labels.names,
    registers: [registry],
    collect: () => collect(hub!),
  });
  hub = new HubGauge(gauge, labels);
  return hub;
}
