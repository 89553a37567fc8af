// What a tenant spent, per API key, against real PostgreSQL (with the real migrations) and real NATS:
// each orchestration records the key that created it (CreateOrchestration, and CreateSession when it
// makes one of its own), and the summary adds up the usage its sessions reported, per creating key and
// in total, within one tenant, since a time, a cost null while none was reported, past 200 keys in `others`.
import { randomUUID } from 'node:crypto';
import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Usage, USAGE_SUMMARY_KEYS, usageOf } from '@hub/contracts';
import { CreateOrchestration } from '../orchestrations/create-orchestration.use-case';
import { ClaimSession } from '../sessions/claim-session.use-case';
import { CreateSession } from '../sessions/create-session.use-case';
import { RecordContainerOutcome } from '../sessions/record-container-outcome.use-case';
import { RecordDependencyOutcome } from '../sessions/record-dependency-outcome.use-case';
import { UsageQueries } from './usage-queries';
import { startRegistryHarness, type RegistryHarness } from '@hub/registry-testing';

const A = 'team-a';
const B = 'team-b';

describe('usage per tenant and per key in the registry (real PostgreSQL and NATS)', () => {
  let harness: RegistryHarness;
  let app: INestApplicationContext;
  let dataSource: DataSource;

  beforeAll(async () => {
    harness = await startRegistryHarness('usage');
    ({ app, dataSource } = harness);
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
  });

  const spent = (input: number, costUsd: number | null = null) => usageOf({ input, output: input / 10, cacheRead: 0, cacheWrite: 0 }, costUsd);
  const summary = (tenant: string, since?: string) => app.get(UsageQueries).summary({ since }, tenant);
  const createdBy = async (orchestrationId: string): Promise<string | null> =>
    (await dataSource.query(`SELECT created_by FROM orchestrations WHERE id = $1`, [orchestrationId]))[0].created_by;

  /** Runs a session to its end, its one attempt spending `usage` (as a runner reports it in `container.exited`). */
  async function run(sessionId: string, usage: Usage): Promise<void> {
    await app.get(RecordDependencyOutcome).resolved({ id: randomUUID(), subject: 'deps.resolved', occurredAt: new Date().toISOString(), data: { sessionId, run: 1 } });
    const { spec } = await app.get(ClaimSession).execute(sessionId, 'r1');
    await app.get(RecordContainerOutcome).exited({
      id: randomUUID(),
      subject: 'container.exited',
      occurredAt: new Date().toISOString(),
      data: {
        sessionId,
        attempt: spec!.attempt,
        runnerId: 'r1',
        containerId: 'c'.repeat(64),
        cause: 'exited',
        exitCode: 0,
        oomKilled: false,
        durationMs: 10,
        detail: null,
        output: { files: 1, bytes: 10, skipped: 0 },
        logBytes: 5,
        logDroppedBytes: 0,
        changes: null,
        usage,
        rateLimit: null,
      },
    });
  }

  /** An orchestration `key` of `tenant` created, each of its sessions spending one of `usages`; its id. */
  async function orchestrationSpending(tenant: string, key: string, usages: Usage[]): Promise<string> {
    const created = await app.get(CreateOrchestration).execute(
      { name: `by ${key}`, start: true, sessions: usages.map((_, i) => ({ name: `s${i}`, type: 'analysis', prompt: 'true', dependsOn: [] })) },
      tenant,
      key,
    );
    const ids: { id: string }[] = await dataSource.query(`SELECT id FROM sessions WHERE orchestration_id = $1 ORDER BY seq`, [created.id]);
    for (const [i, { id }] of ids.entries()) await run(id, usages[i]);
    return created.id;
  }

  let ciOrchestration: string;

  it("sums a tenant's spending per creating key and in total, another tenant's not counted, a cost null while none was reported", async () => {
    ciOrchestration = await orchestrationSpending(A, 'ci-writer', [spent(1000, 0.5), spent(2000, 0.25)]);
    // A session of its own: its orchestration is made by CreateSession, for the same key.
    const alone = await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', start: true }, A, 'alice');
    await run(alone.id, spent(500));
    // The same key name in another tenant, and another key there: neither is A's.
    await orchestrationSpending(B, 'ci-writer', [spent(7000, 1)]);
    await orchestrationSpending(B, 'bob', [spent(3000)]);

    expect(await createdBy(ciOrchestration)).toBe('ci-writer');
    expect(await createdBy(alone.orchestrationId)).toBe('alice');

    expect(await summary(A)).toEqual({
      tenant: A,
      since: null,
      orchestrations: 2,
      total: { tokens: { input: 3500, output: 350, cacheRead: 0, cacheWrite: 0, total: 3850 }, costUsd: 0.75 },
      byKey: [
        { key: 'ci-writer', orchestrations: 1, usage: { tokens: { input: 3000, output: 300, cacheRead: 0, cacheWrite: 0, total: 3300 }, costUsd: 0.75 } },
        { key: 'alice', orchestrations: 1, usage: { tokens: { input: 500, output: 50, cacheRead: 0, cacheWrite: 0, total: 550 }, costUsd: null } },
      ],
      others: null,
    });
    const ofB = await summary(B);
    expect(ofB.byKey.map((k) => [k.key, k.usage.tokens.total, k.usage.costUsd])).toEqual([
      ['ci-writer', 7700, 1],
      ['bob', 3300, null],
    ]);
    expect(ofB.total.tokens.total).toBe(11_000);
  });

  it('counts only the orchestrations created since the time asked (a date alone: midnight UTC), their cost null when none of them reported one', async () => {
    await dataSource.query(`UPDATE orchestrations SET created_at = now() - interval '10 days' WHERE id = $1`, [ciOrchestration]);
    const since = new Date(Date.now() - 24 * 3600_000).toISOString();
    expect(await summary(A, since)).toEqual({
      tenant: A,
      since,
      orchestrations: 1,
      total: { tokens: { input: 500, output: 50, cacheRead: 0, cacheWrite: 0, total: 550 }, costUsd: null },
      byKey: [{ key: 'alice', orchestrations: 1, usage: { tokens: { input: 500, output: 50, cacheRead: 0, cacheWrite: 0, total: 550 }, costUsd: null } }],
      others: null,
    });
    const day = since.slice(0, 10);
    expect((await summary(A, day)).since).toBe(`${day}T00:00:00.000Z`);
    expect((await summary(A, '2000-01-01')).orchestrations).toBe(2);
    expect(await summary(A, new Date(Date.now() + 3600_000).toISOString())).toMatchObject({
      orchestrations: 0,
      total: { tokens: { total: 0 }, costUsd: null },
      byKey: [],
      others: null,
    });
  });

  it(`lists the ${USAGE_SUMMARY_KEYS} keys that spent most, sums the rest as others, and lists orchestrations made before keys were recorded under no key`, async () => {
    const MANY = 'team-many';
    const keys = Array.from({ length: USAGE_SUMMARY_KEYS }, (_, i) => `key-${String(i).padStart(3, '0')}`);
    for (const key of keys) {
      await app.get(CreateOrchestration).execute({ name: key, sessions: [{ name: 'a', type: 'analysis', prompt: 'true', dependsOn: [] }] }, MANY, key);
    }
    // Before keys: no creator (as the migration leaves every orchestration made before it).
    const before = await app.get(CreateOrchestration).execute({ name: 'old', sessions: [{ name: 'a', type: 'analysis', prompt: 'true', dependsOn: [] }] }, MANY);
    expect(await createdBy(before.id)).toBeNull();
    // key-000 spends 1 token, key-001 2 … key-199 200; the one made before keys spends 1,000.
    await dataSource.query(
      `UPDATE orchestrations SET usage = jsonb_build_object('tokens', jsonb_build_object('input', n, 'output', 0, 'cacheRead', 0, 'cacheWrite', 0, 'total', n), 'costUsd', null)
         FROM (SELECT id, CASE WHEN created_by IS NULL THEN 1000 ELSE substring(created_by from 5)::int + 1 END AS n FROM orchestrations WHERE tenant = $1) spent
        WHERE orchestrations.id = spent.id`,
      [MANY],
    );

    const many = await summary(MANY);
    expect(many.orchestrations).toBe(USAGE_SUMMARY_KEYS + 1);
    expect(many.total.tokens.total).toBe(1000 + (USAGE_SUMMARY_KEYS * (USAGE_SUMMARY_KEYS + 1)) / 2);
    expect(many.byKey).toHaveLength(USAGE_SUMMARY_KEYS);
    expect(many.byKey[0]).toEqual({ key: null, orchestrations: 1, usage: expect.objectContaining({ tokens: expect.objectContaining({ total: 1000 }) }) });
    expect(many.byKey.slice(1, 3).map((k) => [k.key, k.usage.tokens.total])).toEqual([
      ['key-199', 200],
      ['key-198', 199],
    ]);
    expect(many.byKey.at(-1)?.key).toBe('key-001');
    expect(many.others).toEqual({ keys: 1, orchestrations: 1, usage: { tokens: { input: 1, output: 0, cacheRead: 0, cacheWrite: 0, total: 1 }, costUsd: null } });
  });
});
