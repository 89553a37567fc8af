import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';
import { makeTempDir } from '@hub/infra';
import { createBareRepository } from './support/git-repository';
import { connectToBus, startTestStack, type TestStack } from './support/test-stack';

describe('runner secrets and local repositories', () => {
  const canary = `canary-${randomBytes(12).toString('hex')}`;
  let hub: TestStack;
  let repositories: string;

  beforeAll(async () => {
    repositories = await makeTempDir('hub-repos');
    createBareRepository(join(repositories, 'project.git'), { 'README.md': '# project\n' });
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

    // Each search below also proves it read what it should: the session, its events, its log and
    // output (masked), so a search that reads nothing, or the wrong thing, fails instead of passing.

    // PostgreSQL: every row of every table, among them the session's row and its attempt.
    const db = new Client({ connectionString: hub.stack.databaseUrl });
    await db.connect();
    const tables: { table_name: string }[] = (
      await db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
    ).rows;
    const rowsRead: Record<string, number> = {};
    let rowsNamingSession = 0;
    for (const { table_name } of tables) {
      const rows: { row: string }[] = (await db.query(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`)).rows;
      rowsRead[table_name] = rows.length;
      rowsNamingSession += rows.filter((r) => r.row.includes(session.id)).length;
      expect({ table_name, leaks: rows.filter((r) => r.row.includes(canary)).length }).toEqual({ table_name, leaks: 0 });
    }
    await db.end();
    expect(rowsRead).toMatchObject({ sessions: expect.any(Number), session_attempts: expect.any(Number), outbox: expect.any(Number) });
    expect(rowsRead['sessions']).toBeGreaterThan(0);
    expect(rowsNamingSession).toBeGreaterThanOrEqual(2); // its row and its attempt, at least

    // JetStream: every message of every stream (the events, and every chunk of the object store),
    // each one read (a stream may have gaps: the store deletes what it replaced), the session's
    // events among them, and its masked output and log.
    const nc = await connectToBus(hub.stack);
    const jsm = await nc.jetstreamManager();
    const read: Record<string, { messages: number; read: number; namingSession: number; masked: number }> = {};
    for await (const stream of jsm.streams.list()) {
      const name = stream.config.name;
      const tally = (read[name] = { messages: stream.state.messages, read: 0, namingSession: 0, masked: 0 });
      for (let seq = stream.state.first_seq; seq <= stream.state.last_seq; seq++) {
        const message = await jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (!message) continue;
        const data = Buffer.from(message.data);
        tally.read++;
        if (data.includes(session.id) || message.subject.includes(session.id)) tally.namingSession++;
        if (data.includes('[masked:CANARY]')) tally.masked++;
        expect({ name, seq, leaks: data.includes(canary) }).toEqual({ name, seq, leaks: false });
      }
    }
    await nc.close();
    expect(read['HUB_EVENTS'].read).toBe(read['HUB_EVENTS'].messages);
    expect(read['HUB_EVENTS'].namingSession).toBeGreaterThanOrEqual(5); // created … running → failed
    const objectStore = Object.entries(read).filter(([name]) => name.startsWith('OBJ_'));
    expect(objectStore.length).toBeGreaterThan(0);
    for (const [name, tally] of objectStore) expect({ name, complete: tally.read === tally.messages }).toEqual({ name, complete: true });
    // leak.txt, the log and the reason, each masked: at least the file and the log are chunks of the store.
    expect(objectStore.reduce((n, [, tally]) => n + tally.masked, 0)).toBeGreaterThanOrEqual(2);

    // The services' logs: all four, each with lines, the runner's naming the session.
    const logs = await readdir(hub.stack.logDir);
    expect(logs).toEqual(expect.arrayContaining(['gateway.log', 'session-registry.log', 'dependency-resolver.log', 'container-runner.log']));
    for (const file of logs) {
      const text = await readFile(join(hub.stack.logDir, file), 'utf8');
      expect({ file, empty: text.length === 0 }).toEqual({ file, empty: false });
      expect({ file, leaks: text.includes(canary) }).toEqual({ file, leaks: false });
    }
    expect(await readFile(join(hub.stack.logDir, 'container-runner.log'), 'utf8')).toContain(session.id);
  });

  it('prepares /workspace as a checkout of a local repository under the allowed roots, the repository itself untouched', async () => {
    const session = await hub.api.createSession({
      type: 'analysis',
      repository: join(repositories, 'project.git'),
      branch: 'main',
      prompt: 'echo "repo=$HUB_REPOSITORY branch=$HUB_BRANCH"; cat /workspace/README.md; git -C /workspace status --short | wc -l; ls /hub/repository 2>&1 | head -1',
      start: true,
    });
    const done = await hub.api.waitForStatus(session.id);
    expect(done.status).toBe('completed');
    const log = (await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`)).text;
    expect(log).toContain('repo=local branch=main');
    expect(log).toContain('# project');
    expect(log).toMatch(/No such file or directory/); // the repository is never mounted into the container
  });

  it('refuses a local repository outside the allowed roots, saying why', async () => {
    const session = await hub.api.createSession({ type: 'analysis', repository: '/etc', prompt: 'ls /hub/repository', start: true });
    const done = await hub.api.waitForStatus(session.id);
    expect(done.status).toBe('failed');
    expect(done.statusReason).toContain('HUB_LOCAL_REPOSITORY_ROOTS');
  });
});
