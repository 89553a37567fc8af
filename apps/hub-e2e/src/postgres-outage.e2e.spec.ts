import { startPostgresCluster } from '@hub/infra';
import { startTestStack, type TestStack } from './support/test-stack';

describe('PostgreSQL stopped for 10 seconds mid-run', () => {
  let hub: TestStack;

  beforeAll(async () => {
    hub = await startTestStack();
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  it('answers 503 saying why during the outage, crashes nothing, and finishes the run once it is back', async () => {
    const running = await hub.api.createSession({ type: 'testing', prompt: 'echo before; sleep 6; echo after', start: true });
    await hub.api.waitForStatus(running.id, ['running']);

    const postgres = hub.stack.postgres!;
    await postgres.stop();
    const outageBegan = Date.now();

    const list = await hub.api.request('GET', '/api/v1/sessions');
    expect(list.status).toBe(503);
    expect(list.body.error).toBe('unavailable');
    expect(list.body.message).toMatch(/postgres|database/i);
    const create = await hub.api.request('POST', '/api/v1/sessions', { type: 'analysis', prompt: 'true', start: true });
    expect(create.status).toBe(503);
    const ready = await fetch(`${hub.api.baseUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toMatch(/postgres/i);

    // The session's container ends during the outage; its report must wait, not be lost.
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - outageBegan))));
    const back = await startPostgresCluster({ dataDir: postgres.dataDir, port: postgres.port, fsync: false });
    hub.stack.postgres = back;

    const done = await hub.api.waitForStatus(running.id, undefined, 60_000);
    expect(done).toMatchObject({ status: 'completed', exitCode: 0 });
    expect((await hub.api.request('GET', `/api/v1/sessions/${running.id}/logs`)).text).toContain('after');

    const after = await hub.api.createSession({ type: 'analysis', prompt: 'echo fine', start: true });
    expect((await hub.api.waitForStatus(after.id)).status).toBe('completed');
    for (const service of Object.values(hub.stack.services)) expect(service.pid).toBeDefined();
  });
});
