import type { NatsConnection } from 'nats';
import { orchestrationObjectsPrefix, sessionObjectsPrefix, type AuditPage, type CreatedApiKey, type DeletedOrchestration, type DeletedSession } from '@hub/contracts';
import { OutputStore } from '@hub/messaging';
import { HubApi } from './support/hub-api';
import { byName } from './support/timeline';
import { connectToBus, startTestStack, type TestStack } from './support/test-stack';

/**
 * Issue 16, retention: DELETE of an ended orchestration or session removes its rows and, through the
 * runner, everything it left in the object store (outputs, logs, changes, the combined result); one
 * on its way is refused; a read key may not; the audit log names the key behind each deletion.
 */
describe('deleting orchestrations and sessions, outputs included', () => {
  let hub: TestStack;
  let bus: NatsConnection;
  let objects: OutputStore;

  beforeAll(async () => {
    hub = await startTestStack();
    bus = await connectToBus(hub.stack);
    objects = new OutputStore(bus);
  }, 180_000);

  afterAll(async () => {
    await bus?.close();
    await hub?.stop();
  });

  /** Waits until nothing is stored under `prefixes` any more (a runner removes it a moment after the deletion). */
  async function waitUntilGone(prefixes: string[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = await objects.namesUnder(prefixes);
      if (!left.length) return;
      if (Date.now() > deadline) throw new Error(`still stored after ${timeoutMs} ms: ${left.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('refuses to delete an orchestration on its way, naming its sessions, then deletes it ended, with its outputs, changes and result', async () => {
    const created = await hub.api.createOrchestration({
      name: 'to-delete',
      start: true,
      sessions: [
        { name: 'plan', prompt: 'echo plan > PLAN.md; echo planned > /hub/output/plan.txt' },
        { name: 'build', dependsOn: ['plan'], prompt: 'sleep 3; echo built >> PLAN.md; mkdir -p /hub/output/out; echo built > /hub/output/out/build.txt' },
      ],
    });
    await hub.api.waitForStatus(created.sessions.find((s) => s.name === 'build')!.id, ['running']);
    const refused = await hub.api.request('DELETE', `/api/v1/orchestrations/${created.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error: 'conflict',
      message: expect.stringMatching(new RegExp(`^cannot delete orchestration ${created.id}: 1 of its sessions has not ended \\(build \\([0-9a-f-]{36}\\) running\\)`)),
    });

    await hub.api.waitForOrchestration(created.id);
    const ended = await hub.api.waitForResult(created.id);
    expect(ended.status).toBe('completed');
    expect(ended.result.changes).not.toBeNull();
    const { plan, build } = byName((await hub.api.getOrchestration(created.id)).sessions);
    const prefixes = [sessionObjectsPrefix(plan.id), sessionObjectsPrefix(build.id), orchestrationObjectsPrefix(created.id)];
    expect((await hub.api.request('GET', `/api/v1/sessions/${build.id}/output/files/out/build.txt`)).text).toBe('built\n');
    const stored = await objects.namesUnder(prefixes);
    expect(stored).toEqual(
      expect.arrayContaining([`${plan.id}/output/plan.txt`, `${build.id}/output/out/build.txt`, `${build.id}/logs/1`, `${build.id}/manifest`, `orchestrations/${created.id}/changes/diff`]),
    );

    const deleted = await hub.api.request<DeletedOrchestration>('DELETE', `/api/v1/orchestrations/${created.id}`);
    expect(deleted).toMatchObject({ status: 200, body: { id: created.id, name: 'to-delete', sessionCount: 2 } });

    // Gone for the API at once,
    for (const path of [
      `/api/v1/orchestrations/${created.id}`,
      `/api/v1/orchestrations/${created.id}/changes`,
      `/api/v1/sessions/${plan.id}`,
      `/api/v1/sessions/${build.id}/output`,
      `/api/v1/sessions/${build.id}/output/files/out/build.txt`,
      `/api/v1/sessions/${build.id}/logs`,
    ]) {
      expect([path, (await hub.api.request('GET', path)).status]).toEqual([path, 404]);
    }
    // and from the object store a moment later (the runner's work on orchestration.deleted).
    await waitUntilGone(prefixes);
    expect(await objects.getManifest(build.id)).toBeNull();

    // Deleted once: a second DELETE is a 404.
    expect((await hub.api.request('DELETE', `/api/v1/orchestrations/${created.id}`)).status).toBe(404);

    // The audit log names who deleted what.
    const audit = await hub.api.request<AuditPage>('GET', '/api/v1/audit?action=orchestrations.delete');
    expect(audit.body.items).toEqual([
      expect.objectContaining({ key: 'bootstrap', action: 'orchestrations.delete', targetType: 'orchestration', targetId: created.id, detail: { name: 'to-delete', sessions: 2 } }),
    ]);
  });

  it('deletes an ended session no other depends on (refusing the one depended on), its orchestration with its last one; a read key may not', async () => {
    const created = await hub.api.createOrchestration({
      name: 'pair',
      start: true,
      sessions: [
        { name: 'first', prompt: 'echo 1 > /hub/output/one.txt' },
        { name: 'second', dependsOn: ['first'], prompt: 'echo 2 > /hub/output/two.txt' },
      ],
    });
    const { first, second } = byName((await hub.api.waitForOrchestration(created.id)).sessions);
    await hub.api.waitForResult(created.id);

    const reader = await hub.api.request<CreatedApiKey>('POST', '/api/v1/keys', { name: 'deletion-reader', scope: 'read' });
    const forbidden = await new HubApi(hub.stack.gatewayUrl, reader.body.token).request('DELETE', `/api/v1/sessions/${second.id}`);
    expect(forbidden).toMatchObject({
      status: 403,
      body: { error: 'forbidden', message: 'this key (read) may not DELETE /api/v1/sessions/{id}: it needs the write scope' },
    });

    const dependedOn = await hub.api.request('DELETE', `/api/v1/sessions/${first.id}`);
    expect(dependedOn.status).toBe(409);
    expect(dependedOn.body.message).toBe(
      `cannot delete session ${first.id}: 1 session depends on it (second (${second.id}) completed); delete them first, or its whole orchestration`,
    );

    const deletedSecond = await hub.api.request<DeletedSession>('DELETE', `/api/v1/sessions/${second.id}`);
    expect(deletedSecond).toMatchObject({ status: 200, body: { id: second.id, orchestrationId: created.id, orchestrationDeleted: false } });
    expect((await hub.api.request('GET', `/api/v1/sessions/${second.id}/output`)).status).toBe(404);
    await waitUntilGone([sessionObjectsPrefix(second.id)]);
    expect(await objects.namesUnder([sessionObjectsPrefix(first.id)])).toContain(`${first.id}/output/one.txt`);

    const deletedFirst = await hub.api.request<DeletedSession>('DELETE', `/api/v1/sessions/${first.id}`);
    expect(deletedFirst.body).toEqual({ id: first.id, orchestrationId: created.id, orchestrationDeleted: true });
    expect((await hub.api.request('GET', `/api/v1/orchestrations/${created.id}`)).status).toBe(404);
    await waitUntilGone([sessionObjectsPrefix(first.id), orchestrationObjectsPrefix(created.id)]);

    const audit = await hub.api.request<AuditPage>('GET', '/api/v1/audit?action=sessions.delete');
    expect(audit.body.items.map((entry) => [entry.targetId, entry.detail])).toEqual([
      [first.id, { orchestrationId: created.id, orchestrationDeleted: true }],
      [second.id, { orchestrationId: created.id }],
    ]);
  });
});
