// The launchers `npm run hub` and every integration test rely on: they start real servers, keep
// data across restarts, and leave nothing running when stopped.
import { spawnSync } from 'node:child_process';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { Client, type ClientConfig } from 'pg';
import { assertDockerReachable } from './docker-engine';
import { startNatsServer } from './nats-server';
import { POSTGRES_SUPERUSER, startPostgresCluster } from './postgres-cluster';
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

  it('lets no one into PostgreSQL without the generated password, over TCP or the unix socket', async () => {
    const dataDir = join(dir, 'pg-auth');
    const cluster = await startPostgresCluster({ dataDir, fsync: false });
    try {
      expect((await stat(cluster.passwordFile)).mode & 0o777).toBe(0o600);
      const password = (await readFile(cluster.passwordFile, 'utf8')).trim();
      expect(cluster.url).toContain(encodeURIComponent(password));
      const hba = await readFile(join(dataDir, 'pg_hba.conf'), 'utf8');
      expect(hba).not.toMatch(/^\s*(local|host)\b.*\b(trust|peer|ident)\s*$/m);

      const without = { host: '127.0.0.1', port: cluster.port, user: POSTGRES_SUPERUSER, database: 'hub' };
      await expect(connectOnce({ ...without, password: '' })).rejects.toThrow(/password/i);
      await expect(connectOnce({ ...without, password: 'guessed' })).rejects.toThrow(/password authentication failed/);
      const socketDir = await postgresSocketDir(cluster.port);
      await expect(connectOnce({ ...without, host: socketDir, password: 'guessed' })).rejects.toThrow(/password authentication failed/);
      // psql, as a local user of the host would try it.
      const psql = join(cluster.binaries.postgres, '..', 'psql');
      const tried = spawnSync(psql, ['-h', '127.0.0.1', '-p', String(cluster.port), '-U', POSTGRES_SUPERUSER, '-w', '-c', 'SELECT 1', 'hub'], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '' },
      });
      if (!tried.error) {
        expect(tried.status).not.toBe(0);
        expect(tried.stderr).toMatch(/password/i);
      }
      await expect(connectOnce({ ...without, password })).resolves.toBeUndefined();
    } finally {
      await cluster.stop();
    }
    // Restarted, it keeps the same password.
    const again = await startPostgresCluster({ dataDir, fsync: false });
    await expect(connectOnce({ connectionString: again.url })).resolves.toBeUndefined();
    await again.stop();
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

/** Connects, runs SELECT 1 and disconnects; rejects with the server's refusal. */
async function connectOnce(config: ClientConfig): Promise<void> {
  const client = new Client({ ...config, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The directory of the cluster's unix socket (a hub-pg-* directory under the temp dir). */
async function postgresSocketDir(port: number): Promise<string> {
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith('hub-pg-')) continue;
    const entries = await readdir(join(tmpdir(), name)).catch(() => [] as string[]);
    if (entries.includes(`.s.PGSQL.${port}`)) return join(tmpdir(), name);
  }
  throw new Error(`no unix socket for port ${port}`);
}
