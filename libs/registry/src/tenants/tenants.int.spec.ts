// Tenants in the registry, against real PostgreSQL (with the real migrations) and real NATS: each
// tenant sees, lists and acts on its own sessions and orchestrations only (another's answer exactly as
// unknown ones do), a tenant with maxConcurrentSessions has at most that many in flight over all its
// orchestrations, released longest-waiting first as places free, and one with allowedImages runs no other image.
import { randomUUID } from 'node:crypto';
import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventOf, HubError } from '@hub/contracts';
import { UpdateOrchestrationBudget } from '../budgets/update-orchestration-budget.use-case';
import { CancelOrchestration } from '../orchestrations/cancel-orchestration.use-case';
import { CreateOrchestration } from '../orchestrations/create-orchestration.use-case';
import { OrchestrationQueries } from '../orchestrations/orchestration-queries';
import { RetryOrchestration } from '../orchestrations/retry-orchestration.use-case';
import { StartOrchestration } from '../orchestrations/start-orchestration.use-case';
import { CancelSession } from '../sessions/cancel-session.use-case';
import { ClaimSession } from '../sessions/claim-session.use-case';
import { ContinueSession } from '../sessions/continue-session.use-case';
import { CreateSession } from '../sessions/create-session.use-case';
import { RecordContainerOutcome } from '../sessions/record-container-outcome.use-case';
import { RecordDependencyOutcome } from '../sessions/record-dependency-outcome.use-case';
import { RerunSession } from '../sessions/rerun-session.use-case';
import { SessionQueries } from '../sessions/session-queries';
import { StartSession } from '../sessions/start-session.use-case';
import { parseTenantPolicies } from './tenant-policies';
import { startRegistryHarness, type RegistryHarness } from '@hub/registry-testing';

const A = 'team-a';
const B = 'team-b';
/** Limited: two sessions in flight, images of the test agent only. */
const LIMITED = 'team-limited';

describe('tenants in the registry (real PostgreSQL and NATS)', () => {
  let harness: RegistryHarness;
  let app: INestApplicationContext;
  let dataSource: DataSource;

  beforeAll(async () => {
    harness = await startRegistryHarness('tenants', {
      settings: {
        tenants: parseTenantPolicies(JSON.stringify({ [LIMITED]: { maxConcurrentSessions: 2, allowedImages: 'hub/test-agent:*' } }), 'HUB_TENANTS'),
      },
    });
    ({ app, dataSource } = harness);
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
  });

  const event = <S extends 'deps.resolved' | 'container.exited'>(subject: S, data: EventOf<S>['data']) =>
    ({ id: `${subject}:${randomUUID()}`, subject, occurredAt: new Date().toISOString(), data }) as EventOf<S>;
  const resolved = (sessionId: string) => app.get(RecordDependencyOutcome).resolved(event('deps.resolved', { sessionId, run: 1 }));
  const claim = async (sessionId: string) => (await app.get(ClaimSession).execute(sessionId, 'r1')).spec!;
  const exited = (sessionId: string, attempt: number) =>
    app.get(RecordContainerOutcome).exited(
      event('container.exited', {
        sessionId,
        attempt,
        runnerId: 'r1',
        containerId: 'c'.repeat(64),
        cause: 'exited',
        exitCode: 0,
        oomKilled: false,
        durationMs: 10,
        detail: null,
        output: { files: 0, bytes: 0, skipped: 0 },
        logBytes: 0,
        logDroppedBytes: 0,
        changes: null,
        usage: null,
        rateLimit: null,
      }),
    );
  /** Runs a session to completion: resolved, claimed, exited 0. */
  const complete = async (sessionId: string) => {
    await resolved(sessionId);
    await exited(sessionId, (await claim(sessionId)).attempt);
  };
  /** The tenant's ready sessions handed to the runners (a `session.ready` was written for them), in order of readiness. */
  const dispatched = async (tenant: string): Promise<string[]> =>
    (
      await dataSource.query(
        `SELECT id FROM sessions WHERE tenant = $1 AND status = 'ready' AND dispatched_at IS NOT NULL ORDER BY ready_at, seq`,
        [tenant],
      )
    ).map((row: { id: string }) => row.id);
  /** What a refusal says, to compare another tenant's answer with an unknown id's. */
  const refusal = async (attempt: Promise<unknown>): Promise<{ code: string; message: string }> => {
    try {
      await attempt;
    } catch (error) {
      if (error instanceof HubError) return { code: error.code, message: error.message };
      throw error;
    }
    throw new Error('not refused');
  };
  const orchestrationOf = (tenant: string, name: string, sessions: string[], start = false) =>
    app.get(CreateOrchestration).execute({ name, start, sessions: sessions.map((s) => ({ name: s, type: 'analysis', prompt: 'true', dependsOn: [] })) }, tenant);
  const sessionsOf = async (orchestrationId: string, tenant: string) =>
    (await app.get(OrchestrationQueries).get(orchestrationId, {}, tenant)).sessions.map((s) => s.id);

  it('lists to each tenant only its own sessions and orchestrations', async () => {
    const ofA = await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true' }, A);
    const ofB = await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true' }, B);
    const planA = await orchestrationOf(A, 'plan-a', ['x', 'y']);
    const planB = await orchestrationOf(B, 'plan-b', ['z']);

    const sessions = async (tenant: string, query = {}) => (await app.get(SessionQueries).list(query, tenant)).items.map((s) => s.id);
    expect(await sessions(A)).toEqual([...(await sessionsOf(planA.id, A)).reverse(), ofA.id]);
    expect(await sessions(B)).toEqual([...(await sessionsOf(planB.id, B)), ofB.id]);
    expect(await sessions(B, { orchestrationId: planA.id })).toEqual([]);
    const orchestrations = async (tenant: string) => (await app.get(OrchestrationQueries).list({}, tenant)).items.map((o) => o.id);
    expect(await orchestrations(A)).toEqual([planA.id, ofA.orchestrationId]);
    expect(await orchestrations(B)).toEqual([planB.id, ofB.orchestrationId]);
    expect(await orchestrations('team-none')).toEqual([]);
  });

  it("answers another tenant's session or orchestration exactly as one that does not exist, and changes nothing", async () => {
    const plan = await orchestrationOf(A, 'owned', ['done', 'other'], true);
    const [done] = await sessionsOf(plan.id, A);
    await complete(done);
    const before = await app.get(OrchestrationQueries).get(plan.id, {}, A);
    const unknown = randomUUID();

    const sessionCommands: [string, (id: string, tenant: string) => Promise<unknown>][] = [
      ['get', (id, tenant) => app.get(SessionQueries).get(id, tenant)],
      ['output', (id, tenant) => app.get(SessionQueries).output(id, tenant)],
      ['start', (id, tenant) => app.get(StartSession).execute(id, tenant)],
      ['cancel', (id, tenant) => app.get(CancelSession).execute(id, tenant)],
      ['rerun', (id, tenant) => app.get(RerunSession).execute(id, tenant)],
      ['continue', (id, tenant) => app.get(ContinueSession).execute({ sessionId: id, prompt: 'more', start: true }, tenant)],
    ];
    for (const [what, command] of sessionCommands) {
      const asUnknown = await refusal(command(unknown, B));
      expect({ what, ...asUnknown }).toEqual({ what, code: 'not_found', message: `session ${unknown} does not exist` });
      expect({ what, ...(await refusal(command(done, B))) }).toEqual({ what, code: 'not_found', message: `session ${done} does not exist` });
    }
    const orchestrationCommands: [string, (id: string, tenant: string) => Promise<unknown>][] = [
      ['get', (id, tenant) => app.get(OrchestrationQueries).get(id, {}, tenant)],
      ['start', (id, tenant) => app.get(StartOrchestration).execute(id, tenant)],
      ['cancel', (id, tenant) => app.get(CancelOrchestration).execute(id, tenant)],
      ['retry', (id, tenant) => app.get(RetryOrchestration).execute(id, tenant)],
      ['budget', (id, tenant) => app.get(UpdateOrchestrationBudget).execute({ orchestrationId: id, budget: { tokens: 1, onExhausted: 'stop' } }, tenant)],
    ];
    for (const [what, command] of orchestrationCommands) {
      expect({ what, ...(await refusal(command(unknown, B))) }).toEqual({ what, code: 'not_found', message: `orchestration ${unknown} does not exist` });
      expect({ what, ...(await refusal(command(plan.id, B))) }).toEqual({ what, code: 'not_found', message: `orchestration ${plan.id} does not exist` });
    }
    expect(await app.get(SessionQueries).statuses([done, unknown], B)).toEqual({ statuses: [] });
    expect(await app.get(SessionQueries).statuses([done, unknown], A)).toEqual({ statuses: [{ sessionId: done, status: 'completed' }] });
    expect(await app.get(OrchestrationQueries).get(plan.id, {}, A)).toEqual(before);
    // Its own tenant still reaches it.
    expect((await app.get(SessionQueries).get(done, A)).status).toBe('completed');
  });

  it("refuses, as unknown, a session that depends on another tenant's or joins another tenant's orchestration; nothing is stored", async () => {
    const ofA = await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true' }, A);
    const unknown = randomUUID();
    const listed = await app.get(SessionQueries).list({}, B);
    const create = (request: { dependsOn?: string[]; orchestrationId?: string }) =>
      refusal(app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', ...request }, B));

    expect(await create({ dependsOn: [ofA.id] })).toEqual({ code: 'bad_request', message: `dependsOn names sessions that do not exist: ${ofA.id}` });
    expect(await create({ dependsOn: [unknown] })).toEqual({ code: 'bad_request', message: `dependsOn names sessions that do not exist: ${unknown}` });
    expect(await create({ orchestrationId: ofA.orchestrationId })).toEqual({
      code: 'not_found',
      message: `orchestration ${ofA.orchestrationId} does not exist`,
    });
    expect(await app.get(SessionQueries).list({}, B)).toEqual(listed);
    // Within its tenant, the same request joins the orchestration of its dependency.
    const follow = await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', dependsOn: [ofA.id] }, A);
    expect(follow.orchestrationId).toBe(ofA.orchestrationId);
  });

  it('keeps at most maxConcurrentSessions of a tenant in flight over its orchestrations, releasing the longest-waiting as each place frees', async () => {
    const first = await orchestrationOf(LIMITED, 'first', ['s1', 's2', 's3'], true);
    const second = await orchestrationOf(LIMITED, 'second', ['t1', 't2'], true);
    const [s1, s2, s3] = await sessionsOf(first.id, LIMITED);
    const [t1, t2] = await sessionsOf(second.id, LIMITED);
    // Another tenant without a limit is not held back by it.
    const free = await orchestrationOf(B, 'free', ['u1', 'u2', 'u3'], true);

    for (const id of [s1, t1, s2, t2, s3]) await resolved(id);
    await Promise.all((await sessionsOf(free.id, B)).map(resolved));
    expect(await dispatched(LIMITED)).toEqual([s1, t1]);
    expect(await dispatched(B)).toHaveLength(3);

    // A claimed session still holds its place; one that ended frees it for the longest-waiting, whatever its orchestration.
    const s1Spec = await claim(s1);
    expect(await dispatched(LIMITED)).toEqual([t1]);
    await exited(s1, s1Spec.attempt);
    expect(await dispatched(LIMITED)).toEqual([t1, s2]);
    await exited(t1, (await claim(t1)).attempt);
    expect(await dispatched(LIMITED)).toEqual([s2, t2]);
    // A session handed out but cancelled (with its orchestration) frees its place too.
    await app.get(CancelOrchestration).execute(second.id, LIMITED);
    expect(await dispatched(LIMITED)).toEqual([s2, s3]);
    await exited(s2, (await claim(s2)).attempt);
    await exited(s3, (await claim(s3)).attempt);
    expect((await app.get(OrchestrationQueries).get(first.id, {}, LIMITED)).status).toBe('completed');
  });

  it('decides the places of sessions moving at once exactly, without a deadlock', async () => {
    const plans = await Promise.all(['p', 'q', 'r'].map((name) => orchestrationOf(LIMITED, `busy-${name}`, ['a', 'b', 'c', 'd'], true)));
    const ids = (await Promise.all(plans.map((plan) => sessionsOf(plan.id, LIMITED)))).flat();
    await Promise.all(ids.map(resolved));
    expect(await dispatched(LIMITED)).toHaveLength(2);

    let ran = 0;
    for (let round = await dispatched(LIMITED); round.length; round = await dispatched(LIMITED)) {
      const specs = await Promise.all(round.map(claim));
      // Ends and cancels at once: each frees a place, and no more than two are ever handed out.
      await Promise.all([
        ...specs.map((spec) => exited(spec.sessionId, spec.attempt)),
        ...(ran === 4 ? [app.get(CancelOrchestration).execute(plans[2].id, LIMITED)] : []),
      ]);
      ran += specs.length;
      const inFlight = await dataSource.query(
        `SELECT count(*)::int AS n FROM sessions WHERE tenant = $1 AND (status IN ('starting', 'running') OR (status = 'ready' AND dispatched_at IS NOT NULL))`,
        [LIMITED],
      );
      expect(inFlight[0].n).toBeLessThanOrEqual(2);
    }
    expect(ran).toBeGreaterThanOrEqual(8);
    const statuses = await Promise.all(plans.map(async (plan) => (await app.get(OrchestrationQueries).get(plan.id, {}, LIMITED)).status));
    expect(statuses.slice(0, 2)).toEqual(['completed', 'completed']);
    expect(['cancelled', 'completed']).toContain(statuses[2]);
  });

  it("refuses an image not on the tenant's allow-list, naming the image and the list, though another tenant may run it", async () => {
    const image = 'hub/other-agent:latest';
    expect(await refusal(app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', image }, LIMITED))).toEqual({
      code: 'bad_request',
      message: `image not on tenant ${LIMITED}'s allow-list (allowedImages=hub/test-agent:*): ${image}`,
    });
    const plan = app.get(CreateOrchestration).execute(
      { name: 'imaged', sessions: [{ name: 'odd', type: 'analysis', prompt: 'true', image, dependsOn: [] }] },
      LIMITED,
    );
    expect(await refusal(plan)).toMatchObject({ code: 'bad_request', message: expect.stringContaining(`odd (${image})`) });
    expect((await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true', image }, B)).image).toBe(image);
    expect((await app.get(CreateSession).execute({ type: 'analysis', prompt: 'true' }, LIMITED)).image).toBe('hub/test-agent:latest');
  });
});
