import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'nats';
import { Client } from 'pg';
import { makeTempDir } from '@hub/infra';
import { startTestStack, type TestStack } from './support/test-stack';

describe('runner secrets and local repositories', () => {
  const canary = `canary-${randomBytes(12).toString('hex')}`;
  let hub: TestStack;
  let repositories: string;

  beforeAll(async () => {
    repositories = await makeTempDir('hub-repos');
    await mkdir(join(repositories, 'project.git'));
    await writeFile(join(repositories, 'project.git', 'HEAD'), 'ref: refs/heads/main\n');
    hub = await startTestStack({
      HUB_SECRET_CANARY: canary,
      HUB_IMAGE_SECRETS: 'hub/test-agent*=CANARY',
      HUB_LOCAL_REPOSITORY_ROOTS: repositories,
    });
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  it('gives the secret to the container, and it appears in no row, no event, no log line and no output', async () => {
    const session = await hub.api.createSession({
      type: 'analysis',
      prompt: `echo "$CANARY" >&2; echo "key=$CANARY"; echo "$CANARY" > /hub/output/leak.txt; sleep 0.1; echo "failing with $CANARY"; exit 1`,
      start: true,
    });
    const done = await hub.api.waitForStatus(session.id);
    expect(done.status).toBe('failed');
    expect(done.statusReason).toContain('failing with [masked:CANARY]');

    const log = await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`);
    expect(log.text).toContain('key=[masked:CANARY]'); // the container had it
    const leak = await hub.api.request('GET', `/api/v1/sessions/${session.id}/output/files/leak.txt`);
    expect(leak.text).toBe('[masked:CANARY]\n');

    // PostgreSQL: every row of every table.
    const db = new Client({ connectionString: hub.stack.databaseUrl });
    await db.connect();
    const tables: { table_name: string }[] = (
      await db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
    ).rows;
    for (const { table_name } of tables) {
      const rows = (await db.query(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`)).rows;
      expect({ table_name, leaks: rows.filter((r) => r.row.includes(canary)).length }).toEqual({ table_name, leaks: 0 });
    }
    await db.end();

    // JetStream: every event, and every chunk of the output object store.
    const nc = await connect({ servers: hub.stack.natsUrl });
    const jsm = await nc.jetstreamManager();
    for await (const stream of jsm.streams.list()) {
      const name = stream.config.name;
      for (let seq = stream.state.first_seq; seq <= stream.state.last_seq; seq++) {
        const message = await jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (message) expect({ name, seq, leaks: Buffer.from(message.data).includes(canary) }).toEqual({ name, seq, leaks: false });
      }
    }
    await nc.close();

    // The services' logs.
    for (const file of await readdir(hub.stack.logDir)) {
      const text = await readFile(join(hub.stack.logDir, file), 'utf8');
      expect({ file, leaks: text.includes(canary) }).toEqual({ file, leaks: false });
    }
  });

  it('mounts a local repository under the allowed roots read-only at /hub/repository', async () => {
    const session = await hub.api.createSession({
      type: 'analysis',
      repository: join(repositories, 'project.git'),
      branch: 'main',
      prompt: 'echo "repo=$HUB_REPOSITORY branch=$HUB_BRANCH"; cat /hub/repository/HEAD; touch /hub/repository/x || echo read-only',
      start: true,
    });
    const done = await hub.api.waitForStatus(session.id);
    expect(done.status).toBe('completed');
    const log = (await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`)).text;
    expect(log).toContain('repo=/hub/repository branch=main');
    expect(log).toContain('ref: refs/heads/main');
    expect(log).toContain('read-only');
  });

  it('refuses a local repository outside the allowed roots, saying why', async () => {
    const session = await hub.api.createSession({ type: 'analysis', repository: '/etc', prompt: 'ls /hub/repository', start: true });
    const done = await hub.api.waitForStatus(session.id);
    expect(done.status).toBe('failed');
    expect(done.statusReason).toContain('HUB_LOCAL_REPOSITORY_ROOTS');
  });
});
