// EventPublisher.publishEnvelopes against a real nats-server -js: many events in flight at once land
// on the stream in the order given, duplicates (same id) are dropped, and every envelope gets its own
// result: one that breaks the contract fails alone, and one that no stream takes says so.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, NatsConnection } from 'nats';
import { EVENT_STREAM, EventEnvelope } from '@hub/contracts';
import { makeTempDir, startNatsServer, type NatsServer } from '@hub/infra';
import { EventPublisher } from './event-publisher';
import { ensureEventStream } from './event-stream';

const resolved = (sessionId: string, id: string = randomUUID()): EventEnvelope<'deps.resolved'> => ({
  id,
  subject: 'deps.resolved',
  occurredAt: new Date().toISOString(),
  data: { sessionId },
});

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
    const results = await new EventPublisher(nc).publishEnvelopes(envelopes);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(await streamedSessionIds(before + 1, envelopes.length)).toEqual(envelopes.map((e) => e.data.sessionId));
  });

  it('drops an envelope published again with the same id, and still acknowledges it', async () => {
    const jsm = await nc.jetstreamManager();
    const envelope = resolved(randomUUID());
    const publisher = new EventPublisher(nc);
    await publisher.publishEnvelopes([envelope]);
    const before = (await jsm.streams.info(EVENT_STREAM.name)).state.messages;
    const results = await publisher.publishEnvelopes([envelope, envelope]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect((await jsm.streams.info(EVENT_STREAM.name)).state.messages).toBe(before);
  });

  it('fails only an envelope that breaks the contract', async () => {
    const results = await new EventPublisher(nc).publishEnvelopes([resolved(randomUUID()), resolved('not-a-uuid'), resolved(randomUUID())]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/sessionId/);
  });

  it('fails, saying why, when no stream takes the subject (last: it deletes the stream)', async () => {
    await (await nc.jetstreamManager()).streams.delete(EVENT_STREAM.name);
    const [result] = await new EventPublisher(nc).publishEnvelopes([resolved(randomUUID())], 2_000);
    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason.message).toMatch(/no stream listens/);
  });
});
