// HUB_NATS_REPLICAS on a real 3-node JetStream cluster, with Hub's users: every stream and bucket a
// service creates gets that many copies, and one made with fewer (a deployment that was one server) is
// raised by the principal that may update it — never lowered.
process.env['HUB_NATS_REPLICAS'] = '3';

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, NatsConnection, StorageType } from 'nats';
import { BUS_PRINCIPALS, EVENT_STREAM, EVENTS, INSTALLATION_BUCKET, OUTPUT_BUCKET, RUNNERS_BUCKET, type BusPrincipal } from '@hub/contracts';
import { hubNatsUsers, loadNatsPasswords, makeTempDir, NATS_OBSERVER, natsCredentialsOf, startNatsCluster, type NatsCluster } from '@hub/infra';
import { durableName, ensureDurableConsumer, ensureEventStream } from './event-stream';
import { ensureLiveLogStream } from './live-log-stream';
import { natsReplicas } from './nats-connection';
import { OutputStore } from './output-store';
import { installationIdOf, RunnerHeartbeats } from './runner-heartbeats';

describe('HUB_NATS_REPLICAS (a real 3-node nats-server cluster, as each service)', () => {
  let dir: string;
  let cluster: NatsCluster;
  let passwords: Record<string, string>;
  const connections: NatsConnection[] = [];
  const as = async (principal: BusPrincipal | typeof NATS_OBSERVER) => {
    const nc = await connect({ servers: cluster.url.split(','), ...natsCredentialsOf(principal, passwords) });
    connections.push(nc);
    return nc;
  };
  const replicasOf = async (stream: string) => {
    const info = await (await (await as(NATS_OBSERVER)).jetstreamManager()).streams.info(stream);
    return info.config.num_replicas;
  };

  beforeAll(async () => {
    dir = await makeTempDir('hub-nats-replicas');
    passwords = await loadNatsPasswords(dir, [...BUS_PRINCIPALS, NATS_OBSERVER], {});
    cluster = await startNatsCluster({ nodes: 3, storeDir: join(dir, 'cluster'), users: hubNatsUsers(passwords, { observer: true }) });
  }, 60_000);

  afterAll(async () => {
    for (const nc of connections) await nc.close().catch(() => undefined);
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the setting through the config lib', () => {
    expect(natsReplicas()).toBe(3);
  });

  it('raises the event stream made with one copy to three, its durable consumers with it, and never lowers it', async () => {
    const jsm = await (await as('session-registry')).jetstreamManager();
    await ensureEventStream(jsm, { replicas: 1 });
    const durable = durableName('session-registry', EVENTS.containerExited);
    await ensureDurableConsumer(jsm, durable, EVENTS.containerExited, 10_000);
    const js = (await as('container-runner')).jetstream();
    await js.publish(EVENTS.containerExited, new TextEncoder().encode('{}'), { msgID: 'before-raise' });
    expect(await replicasOf(EVENT_STREAM.name)).toBe(1);

    await ensureEventStream(jsm);
    expect(await replicasOf(EVENT_STREAM.name)).toBe(3);
    const deadline = Date.now() + 20_000;
    let info = await jsm.streams.info(EVENT_STREAM.name);
    while (!(info.cluster?.replicas?.length === 2 && info.cluster.replicas.every((r) => r.current)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      info = await jsm.streams.info(EVENT_STREAM.name);
    }
    expect(info.cluster?.replicas?.every((r) => r.current)).toBe(true);
    expect(info.state.messages).toBe(1);
    // The durable follows its stream (its replicas: 0, the stream's), led again a moment later.
    let consumer = await jsm.consumers.info(EVENT_STREAM.name, durable);
    while (!(consumer.cluster?.leader && consumer.cluster.replicas?.length === 2) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      consumer = await jsm.consumers.info(EVENT_STREAM.name, durable);
    }
    expect(consumer.cluster?.replicas ?? []).toHaveLength(2);
    expect(consumer.num_pending).toBe(1);

    // A process started with the default (one copy) leaves the three as they are.
    await ensureEventStream(jsm, { replicas: 1 });
    expect(await replicasOf(EVENT_STREAM.name)).toBe(3);
  });

  it('makes the live-log stream with three copies', async () => {
    await ensureLiveLogStream(await (await as('container-runner')).jetstreamManager(), { maxBytes: 1024 * 1024, maxAgeMs: 3600_000 });
    expect(await replicasOf('HUB_LOGS')).toBe(3);
  });

  it('makes the runners bucket with three copies, and raises the installation bucket made with one', async () => {
    await new RunnerHeartbeats(await as('container-runner')).put({ runnerId: 'runner-a', startedAt: new Date().toISOString(), slots: 1, inUse: 0, labels: [] });
    expect(await replicasOf(`KV_${RUNNERS_BUCKET.name}`)).toBe(3);

    await (await as(NATS_OBSERVER)).jetstream().views.kv(INSTALLATION_BUCKET.name, { history: 1, storage: StorageType.File, replicas: 1 });
    expect(await replicasOf(`KV_${INSTALLATION_BUCKET.name}`)).toBe(1);
    await installationIdOf(await as('container-runner'));
    expect(await replicasOf(`KV_${INSTALLATION_BUCKET.name}`)).toBe(3);
  });

  it('raises the output bucket made with one copy when the runner writes to it; the gateway, a reader, only reads', async () => {
    await (await as(NATS_OBSERVER)).jetstream().views.os(OUTPUT_BUCKET, { storage: StorageType.File, replicas: 1 });
    const gateway = new OutputStore(await as('gateway'));
    expect(await gateway.getFile('00000000-0000-4000-8000-000000000001', 'a.txt')).toBeNull();
    expect(await replicasOf(`OBJ_${OUTPUT_BUCKET}`)).toBe(1);

    const runner = new OutputStore(await as('container-runner'));
    await runner.putFile('00000000-0000-4000-8000-000000000001', 'a.txt', Buffer.from('kept three times'));
    expect(await replicasOf(`OBJ_${OUTPUT_BUCKET}`)).toBe(3);
    expect((await gateway.getFile('00000000-0000-4000-8000-000000000001', 'a.txt'))?.toString()).toBe('kept three times');
  });
});
