import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HUB_SERVICES, type HubServiceName } from '@hub/infra';
import type { OrchestrationView } from '@hub/contracts';
import { type Sample, scrape, valueOf } from './support/metrics';
import { startTestStack, type TestStack } from './support/test-stack';

// The acceptance of issue 16's metrics: every service's /metrics, scraped around a run of 32
// sessions (2 of them failing), counts exactly the sessions run. And of its traces: the stack exports
// its spans over OTLP/HTTP to a receiver this test runs, and one session's trace holds spans of all
// four services.

const SESSIONS = 32;
const FAILING = 2;

type Scrapes = Record<HubServiceName, Sample[]>;

/** A span as OTLP/JSON carries it, with its resource's service.name. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
}

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: (Omit<ReceivedSpan, 'service' | 'attributes'> & { attributes?: OtlpAttribute[] })[] }[];
  }[];
}

const attributesOf = (attributes: OtlpAttribute[] = []) =>
  Object.fromEntries(attributes.map(({ key, value }) => [key, Object.values(value)[0]]));

/** A collector's OTLP/HTTP endpoint for traces, in this process: it keeps every span it is sent. */
async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; stop(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
      for (const { resource, scopeSpans } of body.resourceSpans ?? []) {
        const service = String(attributesOf(resource?.attributes)['service.name']);
        for (const span of (scopeSpans ?? []).flatMap((scope) => scope.spans ?? [])) {
          spans.push({ ...span, parentSpanId: span.parentSpanId ?? '', service, attributes: attributesOf(span.attributes) });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    spans,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every attribute a Hub span may carry: ids, subjects, routes, codes and outcomes; never a payload. */
const SPAN_ATTRIBUTE_KEYS = new Set([
  'hub.session.id',
  'hub.orchestration.id',
  'hub.event.outcome',
  'hub.route',
  'error.type',
  'messaging.system',
  'messaging.destination.name',
  'messaging.operation.type',
  'messaging.message.id',
  'http.request.method',
  'http.route',
  'http.response.status_code',
]);

describe("metrics and traces: each service's /metrics counts the sessions run, and one trace follows a session", () => {
  let hub: TestStack;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  /** The run the counts test made, for the traces test. */
  let run: { orchestrationId: string; sessionIds: string[] } | undefined;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    hub = await startTestStack({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '200' });
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
    await otlp?.stop();
  });

  const scrapeAll = async (): Promise<Scrapes & { texts: string[] }> => {
    const scraped = await Promise.all(HUB_SERVICES.map(async (name) => [name, await scrape(hub.stack.metricsUrls[name])] as const));
    for (const [name, { contentType }] of scraped) expect({ name, contentType }).toEqual({ name, contentType: 'text/plain; version=0.0.4; charset=utf-8' });
    return {
      ...(Object.fromEntries(scraped.map(([name, { samples }]) => [name, samples])) as Scrapes),
      texts: scraped.map(([, { text }]) => text),
    };
  };

  /** Polls until `check` holds (the runner frees a slot a moment after the registry recorded the end). */
  const eventually = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  it('serves each service its own /metrics: the gateway on its port, the others on a loopback port each', () => {
    expect(hub.stack.metricsUrls.gateway).toBe(`${hub.stack.gatewayUrl}/metrics`);
    for (const name of HUB_SERVICES.filter((n) => n !== 'gateway')) expect(hub.stack.metricsUrls[name]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new Set(Object.values(hub.stack.metricsUrls)).size).toBe(HUB_SERVICES.length);
  });

  it(`counts a run of ${SESSIONS} sessions, ${FAILING} of them failing, in every service`, async () => {
    const before = await scrapeAll();
    const created = await hub.api.createOrchestration({
      name: 'metrics',
      start: true,
      sessions: Array.from({ length: SESSIONS }, (_, i) => ({ name: `s${i}`, prompt: i < FAILING ? 'exit 1' : 'true', retries: 0 })),
    });
    const done = await hub.api.request<OrchestrationView>('GET', `/api/v1/orchestrations/${created.id}?wait=terminal&timeoutSeconds=240`);
    expect(done.status).toBe(200);
    expect(done.body.counts).toMatchObject({ completed: SESSIONS - FAILING, failed: FAILING });
    run = { orchestrationId: created.id, sessionIds: done.body.sessions.map((s) => s.id) };

    const runnerIdle = async () => valueOf((await scrape(hub.stack.metricsUrls['container-runner'])).samples, 'hub_runner_slots', { state: 'used' }) === 0;
    await eventually('the runner holds no slot', runnerIdle);
    const gatewayCounted = async () =>
      valueOf((await scrape(hub.stack.metricsUrls.gateway)).samples, 'hub_http_requests_total', { route: 'getOrchestration', code: '200' }) >
      valueOf(before.gateway, 'hub_http_requests_total', { route: 'getOrchestration', code: '200' });
    await eventually('the gateway counted the last request', gatewayCounted);
    const after = await scrapeAll();
    const delta = (service: HubServiceName, name: string, labels: Record<string, string> = {}) =>
      valueOf(after[service], name, labels) - valueOf(before[service], name, labels);

    // session-registry: every move, the stored sessions, how long they waited and ran
    expect(delta('session-registry', 'hub_session_transitions_total', { to: 'completed' })).toBe(SESSIONS - FAILING);
    expect(delta('session-registry', 'hub_session_transitions_total', { to: 'failed' })).toBe(FAILING);
    expect(delta('session-registry', 'hub_session_transitions_total', { to: 'running' })).toBe(SESSIONS);
    expect(valueOf(after['session-registry'], 'hub_sessions', { status: 'completed' })).toBeGreaterThanOrEqual(SESSIONS - FAILING);
    expect(valueOf(after['session-registry'], 'hub_sessions', { status: 'failed' })).toBeGreaterThanOrEqual(FAILING);
    expect(valueOf(after['session-registry'], 'hub_ready_undispatched')).toBe(0);
    expect(valueOf(after['session-registry'], 'hub_dispatch_latency_seconds_count')).toBeGreaterThanOrEqual(SESSIONS);
    expect(delta('session-registry', 'hub_session_duration_seconds_count', { status: 'completed' })).toBe(SESSIONS - FAILING);
    expect(delta('session-registry', 'hub_session_duration_seconds_count', { status: 'failed' })).toBe(FAILING);
    expect(delta('session-registry', 'hub_events_handled_total', { subject: 'container.exited', outcome: 'ok' })).toBeGreaterThanOrEqual(SESSIONS);

    // container-runner: containers started and ended, slots given back, no engine error
    expect(delta('container-runner', 'hub_containers_started_total')).toBe(SESSIONS);
    expect(delta('container-runner', 'hub_containers_exited_total', { cause: 'exited' })).toBe(SESSIONS);
    expect(delta('container-runner', 'hub_container_errors_total')).toBe(0);
    expect(valueOf(after['container-runner'], 'hub_runner_slots', { state: 'used' })).toBe(0);
    expect(valueOf(after['container-runner'], 'hub_runner_slots', { state: 'capacity' })).toBe(4);
    expect(delta('container-runner', 'hub_events_handled_total', { subject: 'session.ready', outcome: 'ok' })).toBeGreaterThanOrEqual(SESSIONS);

    // dependency-resolver: a decision for each session asked to start
    expect(delta('dependency-resolver', 'hub_dependency_decisions_total', { decision: 'resolved' })).toBeGreaterThanOrEqual(SESSIONS);
    expect(delta('dependency-resolver', 'hub_dependency_decisions_total', { decision: 'failed' })).toBe(0);

    // gateway: the requests this test made, by catalog route and code
    expect(delta('gateway', 'hub_http_requests_total', { route: 'createOrchestration', method: 'POST', code: '201' })).toBe(1);
    expect(delta('gateway', 'hub_http_requests_total', { route: 'getOrchestration', method: 'GET', code: '200' })).toBe(1);
    expect(delta('gateway', 'hub_http_request_duration_seconds_count', { route: 'createOrchestration', method: 'POST' })).toBe(1);

    // Every service: Node's own metrics, named hub_…, and no label holding a session's id.
    for (const name of HUB_SERVICES) expect({ name, cpu: valueOf(after[name], 'hub_process_cpu_user_seconds_total') > 0 }).toEqual({ name, cpu: true });
    const ids = [created.id, ...done.body.sessions.map((s) => s.id)];
    for (const text of after.texts) expect(ids.filter((id) => text.includes(id))).toEqual([]);
  }, 300_000);

  it("follows one session through the four services in one trace: the gateway's request, the registry, the resolver, the runner", async () => {
    expect(run).toBeDefined(); // the run of the test above
    const sessionId = run!.sessionIds[FAILING]; // one that completed
    const inTrace = () => {
      const ran = otlp.spans.find((s) => s.name === 'process session.ready' && s.attributes['hub.session.id'] === sessionId);
      return ran ? otlp.spans.filter((s) => s.traceId === ran.traceId) : [];
    };
    const ofSession = (service: string, name: string) =>
      inTrace().find((s) => s.service === service && s.name === name && s.attributes['hub.session.id'] === sessionId);
    /** Spans whose parent has not come (yet): a service sends its spans as they end, every 200 ms (OTEL_BSP_SCHEDULE_DELAY). */
    const orphans = (spans: ReceivedSpan[]) => {
      const ids = new Set(spans.map((s) => s.spanId));
      return spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId));
    };
    await eventually(
      'a whole trace, to the registry handling the end of the session',
      async () => ofSession('hub-session-registry', 'process container.exited') !== undefined && orphans(inTrace()).length === 0,
      10_000,
    );

    const spans = inTrace();
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(HUB_SERVICES.map((name) => `hub-${name}`)));
    // It begins at the gateway: the request that created the orchestration, the root of the trace.
    expect(spans.filter((s) => !s.parentSpanId)).toEqual([
      expect.objectContaining({
        service: 'hub-gateway',
        name: 'POST /api/v1/orchestrations',
        attributes: expect.objectContaining({ 'hub.route': 'createOrchestration' }),
      }),
    ]);
    // …and goes through every step of the session, in the service that takes it.
    expect(spans.some((s) => s.service === 'hub-session-registry' && s.name === 'answer hub.registry.orchestrations.create')).toBe(true);
    for (const [service, name] of [
      ['hub-dependency-resolver', 'process session.start-requested'],
      ['hub-dependency-resolver', 'publish deps.resolved'],
      ['hub-session-registry', 'process deps.resolved'],
      ['hub-session-registry', 'publish session.ready'],
      ['hub-container-runner', 'request hub.registry.sessions.claim'],
      ['hub-session-registry', 'answer hub.registry.sessions.claim'],
      ['hub-container-runner', 'publish container.exited'],
      ['hub-session-registry', 'process container.exited'],
    ]) {
      expect({ service, name, found: ofSession(service, name) !== undefined }).toEqual({ service, name, found: true });
    }
    const handled = ofSession('hub-session-registry', 'process container.exited')!;
    expect(handled.parentSpanId).toBe(ofSession('hub-container-runner', 'publish container.exited')!.spanId);
    expect(handled.attributes['hub.event.outcome']).toBe('ok');
    // Ids, subjects, routes and codes only: never a prompt or another payload.
    expect([...new Set(otlp.spans.flatMap((s) => Object.keys(s.attributes)))].filter((key) => !SPAN_ATTRIBUTE_KEYS.has(key))).toEqual([]);
  });

  it('answers 404 on a service listener for anything but GET /metrics', async () => {
    const url = hub.stack.metricsUrls['session-registry'];
    expect((await fetch(url.replace(/\/metrics$/, '/health'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(404);
  });
});
