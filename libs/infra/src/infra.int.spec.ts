// The launchers `npm run hub` and every integration test rely on: they start real servers, keep
// data across restarts, and leave nothing running when stopped.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'nats';
import { Client } from 'pg';
import { assertDockerReachable } from './docker-engine';
import { startNatsServer } from './nats-server';
import { startPostgresCluster } from './postgres-cluster';
import { isProcessAlive } from './process-tree';
import { makeTempDir } from './temp-dir';

describe('infrastructure launchers', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('hub-infra');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts PostgreSQL, keeps its data across a restart, and stops it', async () => {
    const dataDir = join(dir, 'pg');
    const first = await startPostgresCluster({ dataDir, fsync: false });
    let client = new Client({ connectionString: first.url });
    await client.connect();
    await client.query('CREATE TABLE kept (value text)');
    await client.query("INSERT INTO kept VALUES ('still here')");
    await client.end();
    await first.stop();
    await expect(new Client({ connectionString: first.url }).connect()).rejects.toThrow();

    const second = await startPostgresCluster({ dataDir, fsync: false });
    client = new Client({ connectionString: second.url });
    await client.connect();
    expect((await client.query('SELECT value FROM kept')).rows).toEqual([{ value: 'still here' }]);
    await client.end();
    await second.stop();
  });

  it('starts nats-server with JetStream, keeps streams across a restart, and stops it', async () => {
    const nats = await startNatsServer({ storeDir: join(dir, 'nats') });
    let nc = await connect({ servers: nats.url });
    await (await nc.jetstreamManager()).streams.add({ name: 'KEPT', subjects: ['kept.>'] });
    await nc.jetstream().publish('kept.one', new TextEncoder().encode('x'));
    await nc.close();

    await nats.restart();
    nc = await connect({ servers: nats.url });
    expect((await (await nc.jetstreamManager()).streams.info('KEPT')).state.messages).toBe(1);
    await nc.close();
    const pid = nats.pid!;
    await nats.stop();
    expect(isProcessAlive(pid)).toBe(false);
  });

  it('finds the Docker engine, or says what is wrong and how to fix it', async () => {
    await expect(assertDockerReachable()).resolves.toBeUndefined();
    const saved = process.env['DOCKER_HOST'];
    process.env['DOCKER_HOST'] = `unix://${join(dir, 'no-such.sock')}`;
    try {
      await expect(assertDockerReachable()).rejects.toThrow(/not reachable.*does not exist.*ensure-deps/);
    } finally {
      if (saved === undefined) delete process.env['DOCKER_HOST'];
      else process.env['DOCKER_HOST'] = saved;
    }
  });
});
