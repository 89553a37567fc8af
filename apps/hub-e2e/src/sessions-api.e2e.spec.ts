import { randomUUID } from 'node:crypto';
import { startTestStack, type TestStack } from './support/test-stack';

describe('the sessions REST API', () => {
  let hub: TestStack;

  beforeAll(async () => {
    hub = await startTestStack();
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  /** Everything stored, read back through the API page by page. */
  async function allSessions(query: Record<string, string | number> = {}) {
    const seen = [];
    let cursor: string | null = null;
    do {
      const page = await hub.api.listSessions({ ...query, limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return seen;
  }

  describe('listing', () => {
    const created: { id: string; orchestrationId: string; type: string }[] = [];

    beforeAll(async () => {
      // Sessions created alone each get an orchestration of their own; the others share one.
      for (let n = 0; n < 10; n++) {
        created.push(await hub.api.createSession({ type: n % 2 ? 'review' : 'analysis', prompt: `echo ${n}` }));
      }
      const shared = created[0].orchestrationId;
      for (let n = 0; n < 13; n++) {
        created.push(await hub.api.createSession({ type: 'testing', prompt: `echo ${n}`, orchestrationId: shared }));
      }
    });

    it('lists every session of every orchestration when no filter is given, newest first', async () => {
      const page = await hub.api.listSessions();
      const ids = page.items.map((s) => s.id);
      expect(new Set(page.items.map((s) => s.orchestrationId)).size).toBeGreaterThanOrEqual(10);
      for (const session of created) expect(ids).toContain(session.id);
      const createdAt = page.items.map((s) => Date.parse(s.createdAt));
      expect(createdAt).toEqual([...createdAt].sort((a, b) => b - a));
      expect(ids.indexOf(created[created.length - 1].id)).toBeLessThan(ids.indexOf(created[0].id));
    });

    it('pages through everything with nothing repeated or skipped', async () => {
      const paged = await allSessions();
      const ids = paged.map((s) => s.id);
      expect(new Set(ids).size).toBe(ids.length);
      const single = await hub.api.listSessions({ limit: 500 });
      expect(ids).toEqual(single.items.map((s) => s.id));
    });

    it('keeps pages stable while sessions are being created', async () => {
      const first = await hub.api.listSessions({ limit: 5 });
      await hub.api.createSession({ type: 'analysis', prompt: 'echo new' });
      const second = await hub.api.listSessions({ limit: 5, cursor: first.nextCursor! });
      const overlap = second.items.filter((s) => first.items.some((f) => f.id === s.id));
      expect(overlap).toEqual([]);
      expect(Date.parse(second.items[0].createdAt)).toBeLessThanOrEqual(Date.parse(first.items[4].createdAt));
    });

    it('filters by orchestration, by type and by status, across pages', async () => {
      const shared = created[0].orchestrationId;
      const inShared = await allSessions({ orchestrationId: shared });
      expect(inShared).toHaveLength(14);
      expect(inShared.every((s) => s.orchestrationId === shared)).toBe(true);

      const reviews = await allSessions({ type: 'review' });
      expect(reviews.map((s) => s.id).sort()).toEqual(created.filter((s) => s.type === 'review').map((s) => s.id).sort());

      const createdOnes = await allSessions({ status: 'created', type: 'testing' });
      expect(createdOnes).toHaveLength(13);
      expect(createdOnes.every((s) => s.status === 'created' && s.type === 'testing')).toBe(true);

      // Several statuses at once: status=a,b.
      const either = await allSessions({ status: 'created,completed', type: 'testing' });
      expect(either.map((s) => s.id).sort()).toEqual(createdOnes.map((s) => s.id).sort());
      expect(await allSessions({ status: 'failed,skipped', type: 'testing' })).toEqual([]);
      expect((await hub.api.request('GET', '/api/v1/sessions?status=created,finished')).status).toBe(400);
    });

    it('rejects a bad filter, limit or cursor with 400 naming it', async () => {
      for (const [query, field] of [
        ['limit=501', 'limit'],
        ['limit=0', 'limit'],
        ['limit=abc', 'limit'],
        ['status=sleeping', 'status'],
        ['orchestrationId=42', 'orchestrationId'],
        ['cursor=%00%01', 'cursor'],
        ['colour=blue', 'colour'],
      ]) {
        const response = await hub.api.request('GET', `/api/v1/sessions?${query}`);
        expect({ query, status: response.status }).toEqual({ query, status: 400 });
        expect(response.body.error).toBe('bad_request');
        expect(response.body.message).toContain(field);
      }
    });
  });

  describe('errors', () => {
    async function storedCount(): Promise<number> {
      return (await allSessions()).length;
    }

    it('answers 401 without a valid token, and stores nothing', async () => {
      const before = await storedCount();
      for (const headers of [{ authorization: '' }, { authorization: 'Bearer wrong' }, { authorization: 'Basic abc' }]) {
        const response = await hub.api.request('POST', '/api/v1/sessions', { type: 'analysis', prompt: 'x' }, headers);
        expect(response.status).toBe(401);
        expect(response.body).toMatchObject({ error: 'unauthorized' });
      }
      expect(await storedCount()).toBe(before);
    });

    it('answers 400 naming the field for a bad body, and stores nothing', async () => {
      const before = await storedCount();
      const cases: [unknown, string][] = [
        [{ type: 'analysis' }, 'prompt'],
        [{ type: 'analysis', prompt: '' }, 'prompt'],
        [{ type: 'analysis', prompt: 42 }, 'prompt'],
        [{ type: 'analysis', prompt: 'x', timeoutSeconds: -1 }, 'timeoutSeconds'],
        [{ type: 'analysis', prompt: 'x', timeoutSeconds: 'soon' }, 'timeoutSeconds'],
        [{ type: 'analysis', prompt: 'x', start: 'yes' }, 'start'],
        [{ type: 'analysis', prompt: 'x', image: 'not an image' }, 'image'],
        [{ type: 'analysis', prompt: 'x', orchestrationId: 'abc' }, 'orchestrationId'],
        [{ type: 'analysis', prompt: 'x', surprise: true }, 'surprise'],
        [{ type: 'Not A Type!', prompt: 'x' }, 'type'],
        [[1, 2, 3], 'body'],
        ['"just a string"', 'body'],
      ];
      for (const [body, field] of cases) {
        const response = await hub.api.request('POST', '/api/v1/sessions', body);
        expect({ body, status: response.status }).toEqual({ body, status: 400 });
        expect(response.body.error).toBe('bad_request');
        expect(response.body.message).toContain(field);
      }
      expect(await storedCount()).toBe(before);
    });

    it('answers 400 for malformed JSON and 413 for a body over the limit', async () => {
      const before = await storedCount();
      const malformed = await hub.api.request('POST', '/api/v1/sessions', '{"type": "analysis", "prompt": ');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error).toBe('bad_request');
      const huge = await hub.api.request('POST', '/api/v1/sessions', { type: 'analysis', prompt: 'x'.repeat(2 * 1024 * 1024) });
      expect(huge.status).toBe(413);
      expect(huge.body.message).toMatch(/limit|large/i);
      expect(await storedCount()).toBe(before);
    });

    it('answers 404 for an unknown session and 400 for an id that is not one', async () => {
      const unknown = randomUUID();
      for (const path of ['', '/logs', '/output', '/output/files/result.txt']) {
        const response = await hub.api.request('GET', `/api/v1/sessions/${unknown}${path}`);
        expect({ path, status: response.status }).toEqual({ path, status: 404 });
        expect(response.body.message).toContain(unknown);
      }
      expect((await hub.api.request('POST', `/api/v1/sessions/${unknown}/start`)).status).toBe(404);
      const notAnId = await hub.api.request('GET', '/api/v1/sessions/not-an-id');
      expect(notAnId.status).toBe(400);
      expect(notAnId.body.message).toContain('id');
    });

    it('answers 409 when the status does not allow the transition, and changes nothing', async () => {
      const session = await hub.api.createSession({ type: 'analysis', prompt: 'true', start: true });
      const done = await hub.api.waitForStatus(session.id);
      expect(done.status).toBe('completed');
      for (const action of ['start', 'cancel']) {
        const response = await hub.api.request('POST', `/api/v1/sessions/${session.id}/${action}`);
        expect({ action, status: response.status }).toEqual({ action, status: 409 });
        expect(response.body.message).toContain('completed');
      }
      expect(await hub.api.getSession(session.id)).toEqual(done);
    });

    it('starts a created session once: a second start is accepted and changes nothing', async () => {
      const session = await hub.api.createSession({ type: 'analysis', prompt: 'echo once' });
      expect(session.status).toBe('created');
      expect((await hub.api.request('POST', `/api/v1/sessions/${session.id}/start`)).status).toBe(202);
      expect([202, 409]).toContain((await hub.api.request('POST', `/api/v1/sessions/${session.id}/start`)).status);
      const done = await hub.api.waitForStatus(session.id);
      expect(done).toMatchObject({ status: 'completed', attempt: 1 });
    });

    it('rejects path traversal in output file paths', async () => {
      const session = await hub.api.createSession({ type: 'analysis', prompt: 'echo x > /hub/output/a.txt', start: true });
      await hub.api.waitForStatus(session.id);
      for (const path of ['..%2F..%2Fetc%2Fpasswd', '%2E%2E/secret', 'a.txt%00.png']) {
        const response = await hub.api.request('GET', `/api/v1/sessions/${session.id}/output/files/${path}`);
        expect([400, 404]).toContain(response.status);
        expect(response.text).not.toContain('root:');
      }
    });

    it('answers unknown routes with a JSON 404', async () => {
      const response = await hub.api.request('GET', '/api/v1/nothing-here');
      expect(response.status).toBe(404);
      expect(response.body.error).toBe('not_found');
    });
  });

  it('reports readiness of PostgreSQL, NATS, Docker and the images without a token', async () => {
    const response = await fetch(`${hub.api.baseUrl}/health/ready`);
    const body = (await response.json()) as { checks: { name: string }[] };
    expect(response.status).toBe(200);
    const names = body.checks.map((check: { name: string }) => check.name).join(' ');
    expect(names).toMatch(/postgres/i);
    expect(names).toMatch(/nats|jetstream/i);
    expect(names).toMatch(/docker/i);
    expect(names).toMatch(/hub\/test-agent/);
  });
});
