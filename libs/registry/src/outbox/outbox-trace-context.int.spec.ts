// The trace context through the outbox, on real PostgreSQL and NATS with tracing on: an event row
// keeps the context it was written in and the relay's publish continues it (the message's headers
// carry it); a session keeps the context it was created in, and its events written with no trace
// active fall back on it.
import { INestApplicationContext } from '@nestjs/common';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { DataSource } from 'typeorm';
import { DEFAULT_TENANT, EVENT_STREAM, type EventEnvelope } from '@hub/contracts';
import { startRegistryHarness, type RegistryHarness } from '@hub/registry-testing';
import { inSpan, SpanKind, startTracing, stopTracing } from '@hub/tracing';
import { CreateSession } from '../sessions/create-session.use-case';
import { RecordDependencyOutcome } from '../sessions/record-dependency-outcome.use-case';
import { OutboxRelay } from './outbox-relay';

const traceIdOf = (traceparent: string) => traceparent.split('-')[1];

describe('trace context through the outbox (real PostgreSQL and NATS)', () => {
  let harness: RegistryHarness;
  let app: INestApplicationContext;
  let dataSource: DataSource;
  const exporter = new InMemorySpanExporter();

  beforeAll(async () => {
    startTracing('session-registry', { exporter, env: {} });
    harness = await startRegistryHarness('outbox-trace');
    ({ app, dataSource } = harness);
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await stopTracing();
  });

  const outboxRows = async (sessionId: string): Promise<{ subject: string; traceparent: string | null }[]> =>
    dataSource.query(
      `SELECT subject, trace_context->>'traceparent' AS traceparent FROM outbox WHERE envelope->'data'->>'sessionId' = $1 ORDER BY seq`,
      [sessionId],
    );

  /** The traceparent header of each message the stream holds about the session, by subject. */
  const streamed = async (sessionId: string): Promise<Map<string, string>> => {
    await app.get(OutboxRelay).flush();
    const jsm = await harness.nc.jetstreamManager();
    const { last_seq } = (await jsm.streams.info(EVENT_STREAM.name)).state;
    const found = new Map<string, string>();
    for (let seq = 1; seq <= last_seq; seq++) {
      const message = await jsm.streams.getMessage(EVENT_STREAM.name, { seq }).catch(() => null);
      const envelope = message?.json<EventEnvelope>();
      if (envelope && (envelope.data as { sessionId?: string }).sessionId === sessionId) {
        found.set(envelope.subject, message!.header?.get('traceparent') ?? '');
      }
    }
    return found;
  };

  it("writes each row with the context it was written in, stores the session's, and relays them in the messages' headers", async () => {
    const session = await inSpan('answer hub.registry.sessions.create', { kind: SpanKind.SERVER, root: true }, () =>
      app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', start: true }, DEFAULT_TENANT),
    );
    const request = exporter.getFinishedSpans().find((s) => s.name === 'answer hub.registry.sessions.create')!;
    const written = `00-${request.spanContext().traceId}-${request.spanContext().spanId}-01`;

    const [{ traceparent }] = await dataSource.query(`SELECT trace_context->>'traceparent' AS traceparent FROM sessions WHERE id = $1`, [session.id]);
    expect(traceparent).toBe(written);
    expect(await outboxRows(session.id)).toEqual([
      { subject: 'session.created', traceparent: written },
      { subject: 'session.status-changed', traceparent: written },
      { subject: 'session.start-requested', traceparent: written },
    ]);

    const headers = await streamed(session.id);
    const publishes = exporter.getFinishedSpans().filter((s) => s.name === 'publish session.created' && s.attributes['hub.session.id'] === session.id);
    expect(publishes).toHaveLength(1);
    expect(publishes[0].parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(headers.get('session.created')).toBe(`00-${request.spanContext().traceId}-${publishes[0].spanContext().spanId}-01`);
  });

  it("falls back on the session's context for its events written with no trace active", async () => {
    const session = await inSpan('answer hub.registry.sessions.create', { kind: SpanKind.SERVER, root: true }, () =>
      app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', start: true }, DEFAULT_TENANT),
    );
    const [{ traceparent: created }] = await dataSource.query(`SELECT trace_context->>'traceparent' AS traceparent FROM sessions WHERE id = $1`, [
      session.id,
    ]);

    // The resolver's decision, come without a trace (its periodic re-check): nothing is active here.
    await app.get(RecordDependencyOutcome).resolved({
      id: `deps.resolved:${session.id}`,
      subject: 'deps.resolved',
      occurredAt: new Date().toISOString(),
      data: { sessionId: session.id },
    });

    const rows = await outboxRows(session.id);
    expect(rows.map((r) => r.subject)).toEqual([
      'session.created',
      'session.status-changed',
      'session.start-requested',
      'session.status-changed',
      'session.ready',
    ]);
    expect(new Set(rows.map((r) => r.traceparent))).toEqual(new Set([created]));
    const headers = await streamed(session.id);
    expect(traceIdOf(headers.get('session.ready')!)).toBe(traceIdOf(created));
  });
});
