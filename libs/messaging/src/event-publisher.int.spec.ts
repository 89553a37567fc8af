// EventPublisher.publishEnvelopes against a real nats-server -js: many events in flight at once land
// on the stream in the order given, duplicates (same id) are dropped, and every envelope gets its own
// result: one that breaks the contract fails alone, and one that no stream takes says so. Each
// continues the trace it was written in: its headers carry it, under a `publish` span.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, NatsConnection } from 'nats';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { EVENT_STREAM, EventEnvelope } from '@hub/contracts';
import { makeTempDir, startNatsServer, type NatsServer } from '@hub/infra';
import { inSpan, SpanKind, startTracing, stopTracing, traceContextOf } from '@hub/tracing';
import { EventPublisher, type RelayedEvent } from './event-publisher';
import { ensureEventStream } from './event-stream';

const resolved = (sessionId: string, id: string = randomUUID()): EventEnvelope<'deps.resolved'> => ({
  id,
  subject: 'deps.resolved',
  occurredAt: new Date().toISOString(),
  data: { sessionId },
});
/** Outbox rows written with no trace. */
const untraced = (envelopes: EventEnvelope[]): RelayedEvent[] => envelopes.map((envelope) => ({ envelope }));

describe('EventPublisher.publishEnvelopes (real nats-server -js)', () => {
  let dir: string;
  let nats: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    dir = await makeTempDir('hub-publisher');
    nats = await startNatsServer({ storeDir: join(dir, 'nats') });
    nc = await connect({ servers: nats.url });
    await ensureEventStream(await nc.jetstreamManager());
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const streamedSessionIds = async (fromSeq: number, count: number) => {
    const jsm = await nc.jetstreamManager();
    const ids: string[] = [];
    for (let seq = fromSeq; seq < fromSeq + count; seq++) {
      const message = await jsm.streams.getMessage(EVENT_STREAM.name, { seq });
      ids.push((message.json() as EventEnvelope<'deps.resolved'>).data.sessionId);
    }
    return ids;
  };

  it('publishes a thousand events at once, in order, each acknowledged', async () => {
    const before = (await (await nc.jetstreamManager()).streams.info(EVENT_STREAM.name)).state.last_seq;
    const envelopes = Array.from({ length: 1000 }, () => resolved(randomUUID()));
    const results = await new EventPublisher(nc).publishEnvelopes(untraced(envelopes));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(await streamedSessionIds(before + 1, envelopes.length)).toEqual(envelopes.map((e) => e.data.sessionId));
  });

  it('drops an envelope published again with the same id, and still acknowledges it', async () => {
    const jsm = await nc.jetstreamManager();
    const envelope = resolved(randomUUID());
    const publisher = new EventPublisher(nc);
    await publisher.publishEnvelopes(untraced([envelope]));
    const before = (await jsm.streams.info(EVENT_STREAM.name)).state.messages;
    const results = await publisher.publishEnvelopes(untraced([envelope, envelope]));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect((await jsm.streams.info(EVENT_STREAM.name)).state.messages).toBe(before);
  });

  it('fails only an envelope that breaks the contract', async () => {
    const results = await new EventPublisher(nc).publishEnvelopes(
      untraced([resolved(randomUUID()), resolved('not-a-uuid'), resolved(randomUUID())]),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/sessionId/);
  });

  it('puts the trace context each row was written in into its headers, under a publish span; none for a row without', async () => {
    const exporter = new InMemorySpanExporter();
    startTracing('test', { exporter, env: {} });
    try {
      // The registry stored the context of the span that wrote the row; the relay publishes it later.
      const stored = await inSpan('answer hub.registry.sessions.create', { kind: SpanKind.SERVER, root: true }, async () => traceContextOf());
      const [traced, plain] = [resolved(randomUUID()), resolved(randomUUID())];
      const before = (await (await nc.jetstreamManager()).streams.info(EVENT_STREAM.name)).state.last_seq;
      const results = await new EventPublisher(nc).publishEnvelopes([
        { envelope: traced, traceContext: stored },
        { envelope: plain, traceContext: null },
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);

      const jsm = await nc.jetstreamManager();
      const first = await jsm.streams.getMessage(EVENT_STREAM.name, { seq: before + 1 });
      const second = await jsm.streams.getMessage(EVENT_STREAM.name, { seq: before + 2 });
      const spanNamed = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name)!;
      const [writer, publish] = [spanNamed('answer hub.registry.sessions.create'), spanNamed('publish deps.resolved')];
      expect(publish.parentSpanContext?.spanId).toBe(writer.spanContext().spanId);
      expect(publish.attributes).toMatchObject({ 'messaging.message.id': traced.id, 'hub.session.id': traced.data.sessionId });
      expect(first.header.get('traceparent')).toBe(`00-${publish.spanContext().traceId}-${publish.spanContext().spanId}-01`);
      expect(second.header?.get('traceparent') ?? '').toBe('');
      expect(exporter.getFinishedSpans().filter((s) => s.name === 'publish deps.resolved')).toHaveLength(1);
    } finally {
      await stopTracing();
    }
  });

  it('fails, saying why, when no stream takes the subject (last: it deletes the stream)', async () => {
    await (await nc.jetstreamManager()).streams.delete(EVENT_STREAM.name);
    const [result] = await new EventPublisher(nc).publishEnvelopes(untraced([resolved(randomUUID())]), 2_000);
    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason.message).toMatch(/no stream listens/);
  });
});
