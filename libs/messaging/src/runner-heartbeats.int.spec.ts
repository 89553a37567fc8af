// The runners' heartbeats and the installation id, in NATS KV on a real nats-server -js started with
// Hub's users and permissions, used as the container-runner's NATS user (the only one the contracts
// let write them).
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { connect, NatsConnection, nanos } from 'nats';
import { BUS_PRINCIPALS, INSTALLATION_BUCKET, RUNNERS_BUCKET } from '@hub/contracts';
import { hubNatsUsers, loadNatsPasswords, makeTempDir, natsCredentialsOf, startNatsServer, type NatsServer } from '@hub/infra';
import { installationIdOf, RunnerHeartbeats } from './runner-heartbeats';

describe('RunnerHeartbeats and installationIdOf (real nats-server -js, as container-runner)', () => {
  let dir: string;
  let nats: NatsServer;
  let passwords: Record<string, string>;
  const connections: NatsConnection[] = [];
  const as = async (principal: (typeof BUS_PRINCIPALS)[number]) => {
    const nc = await connect({ servers: nats.url, ...natsCredentialsOf(principal, passwords) });
    connections.push(nc);
    return nc;
  };

  beforeAll(async () => {
    dir = await makeTempDir('hub-heartbeats');
    passwords = await loadNatsPasswords(dir, BUS_PRINCIPALS, {});
    nats = await startNatsServer({ storeDir: join(dir, 'nats'), users: hubNatsUsers(passwords) });
  }, 60_000);

  afterAll(async () => {
    for (const nc of connections) await nc.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('makes one installation id for runners starting together, and keeps it', async () => {
    const runners = await Promise.all([as('container-runner'), as('container-runner'), as('container-runner')]);
    const ids = await Promise.all(runners.map((nc) => installationIdOf(nc)));

    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(await installationIdOf(runners[0])).toBe(ids[0]);
    const info = await (await runners[0].jetstreamManager()).streams.info(`KV_${INSTALLATION_BUCKET.name}`);
    expect(info.config.max_age).toBe(0);
  });

  it('lists the runners that put a heartbeat, forgets one that deleted its own, and its bucket expires entries after a minute', async () => {
    const nc = await as('container-runner');
    const heartbeats = new RunnerHeartbeats(nc);
    const startedAt = new Date().toISOString();
    await heartbeats.put({ runnerId: 'runner-a', startedAt, slots: 4, inUse: 1 });
    await heartbeats.put({ runnerId: 'runner-b', startedAt, slots: 2, inUse: 0 });
    await heartbeats.put({ runnerId: 'runner-b', startedAt, slots: 2, inUse: 2 });

    expect(await heartbeats.present()).toEqual(
      new Map([
        ['runner-a', { ok: true, heartbeat: { runnerId: 'runner-a', startedAt, slots: 4, inUse: 1, labels: [] } }],
        ['runner-b', { ok: true, heartbeat: { runnerId: 'runner-b', startedAt, slots: 2, inUse: 2, labels: [] } }],
      ]),
    );

    await heartbeats.remove('runner-b');
    expect([...(await heartbeats.present()).keys()]).toEqual(['runner-a']);

    const info = await (await nc.jetstreamManager()).streams.info(`KV_${RUNNERS_BUCKET.name}`);
    expect(info.config.max_age).toBe(nanos(RUNNERS_BUCKET.maxAgeMs));
    expect(info.config.max_msgs_per_subject).toBe(1);
  });

  it('refuses to put a heartbeat that breaks the schema, and counts a malformed entry as a present runner', async () => {
    const nc = await as('container-runner');
    const heartbeats = new RunnerHeartbeats(nc);
    await expect(heartbeats.put({ runnerId: 'bad id!', startedAt: 'yesterday', slots: -1, inUse: 0 })).rejects.toThrow();

    const kv = await nc.jetstream().views.kv(RUNNERS_BUCKET.name);
    await kv.put('runner-odd', '{"runnerId":"runner-odd"}');
    await kv.put('runner-text', 'alive');

    const present = await heartbeats.present();
    expect(present.get('runner-odd')).toMatchObject({ ok: false, problem: expect.stringContaining('startedAt') });
    expect(present.get('runner-text')).toEqual({ ok: false, problem: 'not JSON' });
  });

  it('lets the session-registry read every entry with its revision (each put a new one), and write none', async () => {
    const writer = new RunnerHeartbeats(await as('container-runner'));
    const heartbeat = { runnerId: 'runner-r', startedAt: new Date().toISOString(), slots: 1, inUse: 0, labels: [], heartbeatEveryMs: 1000 };
    await writer.put(heartbeat);
    const reader = new RunnerHeartbeats(await as('session-registry'));

    const first = (await reader.observe())?.get('runner-r');
    expect(first).toMatchObject({ ok: true, heartbeat, revision: expect.any(Number) });
    await writer.put({ ...heartbeat, inUse: 1 });
    const second = (await reader.observe())?.get('runner-r');
    expect(second).toMatchObject({ ok: true, heartbeat: { inUse: 1 } });
    expect(second!.revision).toBeGreaterThan(first!.revision);

    await expect(reader.put({ ...heartbeat, runnerId: 'runner-forged' })).rejects.toThrow();
    expect((await reader.observe())?.has('runner-forged')).toBe(false);
  });

  it('lets no other service write the heartbeats or the installation id', async () => {
    const gateway = await as('gateway');
    await expect(gateway.jetstream().views.kv(RUNNERS_BUCKET.name)).rejects.toThrow();
    await expect(installationIdOf(gateway)).rejects.toThrow();
  });
});
