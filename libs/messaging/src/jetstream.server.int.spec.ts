// The JetStream transport against a real nats-server -js: validation on receipt, ack after the
// handler, redelivery of what failed or was deferred, termination of what is malformed or refused,
// and the boot-time check that every owned subject has exactly one handler; with tracing on, each
// delivery in a span that continues the publisher's trace.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { connect, JSONCodec, NatsConnection } from 'nats';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { createLogger } from '@hub/config';
import { EventOf, EVENTS, HubError } from '@hub/contracts';
import { makeTempDir, startNatsServer, type NatsServer } from '@hub/infra';
import { inSpan, SpanKind, startTracing, stopTracing, traceContextOf, type TraceContext } from '@hub/tracing';
import { DeferredDelivery } from './deferred-delivery';
import { EventPublisher } from './event-publisher';
import { JetStreamServer, RethrowRpcErrors } from './jetstream.server';

const received: EventOf<'deps.resolved'>[] = [];
let failuresToGo = 0;
/** Sessions whose next delivery is deferred, with the delay asked for. */
const deferOnce = new Map<string, number>();
/** When each session's event reached the handler, in order. */
const deliveredAt = new Map<string, number[]>();
/** Sessions whose handler takes this long. */
const slow = new Map<string, number>();
/** The trace context active in the handler, by session. */
const activeInHandler = new Map<string, TraceContext | null>();

@Controller()
class ProbeController {
  @EventPattern(EVENTS.depsResolved)
  async onDepsResolved(@Payload() event: EventOf<'deps.resolved'>) {
    const { sessionId } = event.data;
    deliveredAt.set(sessionId, [...(deliveredAt.get(sessionId) ?? []), Date.now()]);
    activeInHandler.set(sessionId, traceContextOf());
    if (slow.has(sessionId)) await sleep(slow.get(sessionId)!);
    if (sessionId.startsWith('00000000')) throw new HubError('conflict', 'refused on purpose');
    const deferMs = deferOnce.get(sessionId);
    if (deferMs !== undefined) {
      deferOnce.delete(sessionId);
      throw new DeferredDelivery(deferMs, 'not yet, on purpose');
    }
    if (failuresToGo > 0) {
      failuresToGo--;
      throw new Error('transient failure');
    }
    received.push(event);
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function eventually(check: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('JetStreamServer (real nats-server -js)', () => {
  let dir: string;
  let nats: NatsServer;
  let nc: NatsConnection;
  let app: INestMicroservice;
  const logger = createLogger('probe', 'silent');
  /** What the server says it terminated on the probe's consumer (its advisories), as they come. */
  const terminated: { stream_seq: number; deliveries: number }[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('hub-messaging');
    nats = await startNatsServer({ storeDir: join(dir, 'nats') });
    nc = await connect({ servers: nats.url });
    nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.HUB_EVENTS.probe--deps_resolved', {
      callback: (_error, message) => terminated.push(JSON.parse(new TextDecoder().decode(message.data))),
    });
    await nc.flush();
    app = await NestFactory.createMicroservice(ProbeModule, {
      strategy: new JetStreamServer({ service: 'probe', nc, logger, events: [EVENTS.depsResolved], rpc: [], ackWaitMs: 5_000 }),
      logger: false,
    });
    app.useGlobalFilters(new RethrowRpcErrors());
    await app.listen();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const publisher = () => new EventPublisher(nc);
  const consumerInfo = async () => (await nc.jetstreamManager()).consumers.info('HUB_EVENTS', 'probe--deps_resolved');
  const storedSessionId = async (seq: number) =>
    JSON.parse(new TextDecoder().decode((await (await nc.jetstreamManager()).streams.getMessage('HUB_EVENTS', { seq })).data)).data.sessionId;

  it('delivers a valid event to its handler once and acks it', async () => {
    const sessionId = '7f1c2a4e-8d9b-4c3a-9e2f-1a2b3c4d5e6f';
    await publisher().publish('deps.resolved', { sessionId }, `deps.resolved:${sessionId}`);
    await publisher().publish('deps.resolved', { sessionId }, `deps.resolved:${sessionId}`); // duplicate id: dropped
    await eventually(() => received.some((e) => e.data.sessionId === sessionId));
    await sleep(300);
    expect(received.filter((e) => e.data.sessionId === sessionId)).toHaveLength(1);
    expect((await consumerInfo()).num_ack_pending).toBe(0);
  });

  it('refuses to publish a payload that breaks the contract', async () => {
    await expect(publisher().publish('deps.resolved', { sessionId: 'nope' } as never, 'bad-1')).rejects.toThrow(/sessionId/);
  });

  it('terminates a malformed message on receipt without calling the handler', async () => {
    const before = received.length;
    const handled = [...deliveredAt.values()].flat().length;
    const jc = JSONCodec();
    const envelope = await nc.jetstream().publish('deps.resolved', jc.encode({ id: 'm1', subject: 'deps.resolved', occurredAt: 'yesterday', data: {} }));
    const notJson = await nc.jetstream().publish('deps.resolved', new TextEncoder().encode('{not json'));
    // Terminated, each on its first delivery: not acked, not left to redeliver.
    await eventually(() => [envelope.seq, notJson.seq].every((seq) => terminated.some((t) => t.stream_seq === seq)));
    expect(terminated.filter((t) => [envelope.seq, notJson.seq].includes(t.stream_seq))).toEqual([
      expect.objectContaining({ stream_seq: envelope.seq, deliveries: 1 }),
      expect.objectContaining({ stream_seq: notJson.seq, deliveries: 1 }),
    ]);
    const info = await consumerInfo();
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    expect(received.length).toBe(before);
    expect([...deliveredAt.values()].flat()).toHaveLength(handled);
  });

  it('redelivers an event whose handler failed until it succeeds', async () => {
    failuresToGo = 2;
    const sessionId = '1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b';
    await publisher().publish('deps.resolved', { sessionId }, `deps.resolved:${sessionId}`);
    await eventually(() => received.some((e) => e.data.sessionId === sessionId), 15_000);
    expect(failuresToGo).toBe(0);
  });

  it('hands a deferred event back after the delay asked for, then handles it once', async () => {
    const sessionId = '2c3d4e5f-6071-4829-9bac-1d2e3f4a5b6c';
    deferOnce.set(sessionId, 1_500);
    await publisher().publish('deps.resolved', { sessionId }, `deps.resolved:${sessionId}`);
    await eventually(() => received.some((e) => e.data.sessionId === sessionId), 10_000);
    const [first, second] = deliveredAt.get(sessionId)!;
    expect(second - first).toBeGreaterThanOrEqual(1_400);
    expect(second - first).toBeLessThan(4_000); // the delay, not the 5 s ack wait
    await sleep(500);
    expect(deliveredAt.get(sessionId)).toHaveLength(2);
    expect(received.filter((e) => e.data.sessionId === sessionId)).toHaveLength(1);
    expect((await consumerInfo()).num_ack_pending).toBe(0);
  });

  it('terminates an event its handler refuses for good (a HubError conflict) instead of retrying it', async () => {
    const sessionId = '00000000-5f60-4718-8a9b-0c1d2e3f4a5b';
    const { num_redelivered } = await consumerInfo();
    const already = terminated.length;
    await publisher().publish('deps.resolved', { sessionId }, `deps.resolved:${sessionId}`);
    // The server says it terminated this event, on its first delivery (not acked, not redelivered).
    await eventually(() => terminated.length > already);
    expect(terminated.slice(already)).toEqual([expect.objectContaining({ deliveries: 1 })]);
    expect(await storedSessionId(terminated[already].stream_seq)).toBe(sessionId);
    // The handler saw it once, and it is not pending.
    await sleep(300);
    expect(deliveredAt.get(sessionId)).toHaveLength(1);
    const info = await consumerInfo();
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(num_redelivered);
  });

  it('does not deliver again an event whose handler is still working past the ack wait', async () => {
    const sessionId = '3d4e5f60-7182-4930-8cbd-2e3f4a5b6c7d';
    slow.set(sessionId, 6_500); // the server's ack wait is 5 s
    await publisher().publish('deps.resolved', { sessionId }, `deps.resolved:${sessionId}`);
    await eventually(() => received.some((e) => e.data.sessionId === sessionId), 15_000);
    await sleep(1_000);
    expect(deliveredAt.get(sessionId)).toHaveLength(1);
    expect((await consumerInfo()).num_redelivered).toBe(0);
  }, 20_000);

  it('handles an event in a process span, child of its publish span, and active in the handler; a failed delivery marked so', async () => {
    const exporter = new InMemorySpanExporter();
    startTracing('probe', { exporter, env: {} });
    try {
      const sessionId = '4e5f6071-8293-4a41-9dce-3f4a5b6c7d8e';
      failuresToGo = 1;
      await inSpan('POST /api/v1/sessions', { kind: SpanKind.SERVER, root: true }, () =>
        publisher().publish('deps.resolved', { sessionId }, `deps.resolved:${sessionId}`),
      );
      await eventually(() => received.some((e) => e.data.sessionId === sessionId), 10_000);
      await eventually(() => exporter.getFinishedSpans().filter((s) => s.name === 'process deps.resolved').length === 2);

      const publish = exporter.getFinishedSpans().find((s) => s.name === 'publish deps.resolved')!;
      const [failed, handled] = exporter.getFinishedSpans().filter((s) => s.name === 'process deps.resolved');
      for (const span of [failed, handled]) {
        expect(span.kind).toBe(SpanKind.CONSUMER);
        expect(span.parentSpanContext).toMatchObject({ traceId: publish.spanContext().traceId, spanId: publish.spanContext().spanId, isRemote: true });
        expect(span.attributes).toMatchObject({ 'hub.session.id': sessionId, 'messaging.message.id': `deps.resolved:${sessionId}` });
      }
      expect(failed.attributes['hub.event.outcome']).toBe('redelivered');
      expect(failed.status.code).toBe(2);
      expect(handled.attributes['hub.event.outcome']).toBe('ok');
      expect(activeInHandler.get(sessionId)).toEqual({ traceparent: `00-${handled.spanContext().traceId}-${handled.spanContext().spanId}-01` });
    } finally {
      await stopTracing();
    }
  });

  it('will not boot a service whose owned subject has no handler', async () => {
    const broken = await NestFactory.createMicroservice(ProbeModule, {
      strategy: new JetStreamServer({ service: 'broken', nc, logger, events: [EVENTS.depsResolved, EVENTS.depsFailed], rpc: [] }),
      logger: false,
    });
    await expect(broken.listen()).rejects.toThrow(/deps.failed/);
    await broken.close().catch(() => undefined);
  });
});
