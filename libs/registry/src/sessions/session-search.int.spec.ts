// Searching the session list (`q`) against real PostgreSQL (with the real migrations): the text is
// found in a session's name, id or status reason, in any case, taken literally (no LIKE wildcards),
// with the other filters and the cursor, and only among the caller's tenant's sessions.
import { INestApplicationContext } from '@nestjs/common';
import { DEFAULT_TENANT, ListSessionsQuerySchema, MAX_SESSION_SEARCH_LENGTH } from '@hub/contracts';
import { startRegistryHarness, type RegistryHarness } from '@hub/registry-testing';
import { CancelSession } from './cancel-session.use-case';
import { SessionQueries } from './session-queries';
import { CreateOrchestration } from '../orchestrations/create-orchestration.use-case';
import { OrchestrationQueries } from '../orchestrations/orchestration-queries';

describe('searching the session list (real PostgreSQL)', () => {
  let harness: RegistryHarness;
  let app: INestApplicationContext;
  let ids: Record<string, string>;
  let orchestrationId: string;

  beforeAll(async () => {
    harness = await startRegistryHarness('session-search');
    app = harness.app;
    const names = ['build-api', 'build_ui', 'Review-API', 'deploy', 'buildXui'];
    const created = await app.get(CreateOrchestration).execute(
      { name: 'search', sessions: names.map((name) => ({ name, type: name === 'deploy' ? 'deployment' : 'analysis', prompt: 'true', dependsOn: [] })) },
      DEFAULT_TENANT,
    );
    orchestrationId = created.id;
    const { sessions } = await app.get(OrchestrationQueries).get(created.id, {}, DEFAULT_TENANT);
    ids = Object.fromEntries(sessions.map((s) => [s.name!, s.id]));
    // A cancelled session gets a status reason to be found by.
    await app.get(CancelSession).execute(ids['deploy'], DEFAULT_TENANT);
    // Another tenant's session of the same name is never found.
    await app.get(CreateOrchestration).execute({ name: 'other', sessions: [{ name: 'build-api', type: 'analysis', prompt: 'true', dependsOn: [] }] }, 'team-b');
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
  });

  /** The names found, newest first, the query read as the gateway and the registry read it. */
  const found = async (query: Record<string, unknown>, tenant = DEFAULT_TENANT) => {
    const page = await app.get(SessionQueries).list(ListSessionsQuerySchema.parse(query), tenant);
    return page.items.map((s) => s.name);
  };

  it('finds the text in a name, in any case', async () => {
    expect(await found({ q: 'api' })).toEqual(['Review-API', 'build-api']);
    expect(await found({ q: 'BUILD' })).toEqual(['buildXui', 'build_ui', 'build-api']);
  });

  it('takes the text literally: % and _ are no wildcards', async () => {
    expect(await found({ q: 'd_u' })).toEqual(['build_ui']);
    expect(await found({ q: '%' })).toEqual([]);
    expect(await found({ q: 'build%ui' })).toEqual([]);
  });

  it('finds a session by a piece of its id, and by its status reason', async () => {
    expect(await found({ q: ids['deploy'].slice(9, 23).toUpperCase() })).toEqual(['deploy']);
    expect((await app.get(SessionQueries).get(ids['deploy'], DEFAULT_TENANT)).statusReason).toBe('cancelled on request');
    expect(await found({ q: 'ON REQUEST', orchestrationId })).toEqual(['deploy']);
  });

  it('combines with the other filters and pages on with the cursor', async () => {
    expect(await found({ q: 'build', type: 'analysis', status: 'created' })).toEqual(['buildXui', 'build_ui', 'build-api']);
    expect(await found({ q: 'deploy', status: 'created' })).toEqual([]);
    const page = (cursor?: string) => app.get(SessionQueries).list(ListSessionsQuerySchema.parse({ q: 'build', limit: '2', cursor }), DEFAULT_TENANT);
    const first = await page();
    const second = await page(first.nextCursor!);
    expect([first.items.map((s) => s.name), second.items.map((s) => s.name), second.nextCursor]).toEqual([['buildXui', 'build_ui'], ['build-api'], null]);
  });

  it("sees the caller's tenant's sessions only", async () => {
    expect(await found({ q: 'build-api' }, 'team-b')).toEqual(['build-api']);
    expect(await found({ q: 'review' }, 'team-b')).toEqual([]);
  });

  it('is refused empty, too long or with control characters (the contract, at both edges)', () => {
    expect(ListSessionsQuerySchema.parse({ q: '  api ' }).q).toBe('api');
    for (const q of ['', '   ', 'x'.repeat(MAX_SESSION_SEARCH_LENGTH + 1), 'a\nb']) {
      expect({ q, valid: ListSessionsQuerySchema.safeParse({ q }).success }).toEqual({ q, valid: false });
    }
  });
});
