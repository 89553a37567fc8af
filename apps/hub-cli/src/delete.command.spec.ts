import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { createColors } from 'picocolors';
import { InMemoryHubApi } from '@hub/testing';
import type { CliContext } from './cli-context';
import { runHub } from './hub-program';

/** The CLI on an in-memory Hub, its stdout and stderr kept. */
async function run(hub: InMemoryHubApi, ...args: string[]) {
  const out = new PassThrough();
  const err = new PassThrough();
  const context: CliContext = {
    terminal: { out, err, live: false, colours: createColors(false), columns: () => Infinity, rows: () => Infinity },
    connect: async () => Object.assign(hub, { events: async function* () {} }),
  };
  const code = await runHub(['node', 'hub', ...args], context);
  out.end();
  err.end();
  return { code, out: await text(out), err: await text(err) };
}

describe('hub delete', () => {
  const pipeline = { name: 'pipeline', sessions: [{ name: 'plan', type: 'analysis', prompt: 'p', dependsOn: [] }, { name: 'build', type: 'implementation', prompt: 'b', dependsOn: ['plan'] }] };

  it('deletes an ended orchestration with its sessions, by its id', async () => {
    const hub = new InMemoryHubApi();
    const orchestration = await hub.createOrchestration(pipeline);
    for (const session of orchestration.sessions) hub.finish(session.id, {});
    expect(await run(hub, 'delete', orchestration.id)).toEqual({ code: 0, out: `deleted: orchestration pipeline ${orchestration.id} with its 2 sessions\n`, err: '' });
    expect(hub.sessions.size).toBe(0);
  });

  it('deletes an ended session by its id, saying when its orchestration went with it', async () => {
    const hub = new InMemoryHubApi();
    const orchestration = await hub.createOrchestration(pipeline);
    const [plan, build] = orchestration.sessions;
    for (const session of orchestration.sessions) hub.finish(session.id, {});
    expect((await run(hub, 'delete', build.id)).out).toBe(`deleted: session build ${build.id}\n`);
    expect((await run(hub, 'delete', plan.id)).out).toBe(`deleted: session plan ${plan.id}, and its orchestration ${orchestration.id} (it was its last session)\n`);
  });

  it("says why Hub refused, and exits 1", async () => {
    const hub = new InMemoryHubApi();
    const orchestration = await hub.createOrchestration({ ...pipeline, start: true });
    const refused = await run(hub, 'delete', orchestration.id);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(new RegExp(`^hub: cannot delete orchestration ${orchestration.id}: 2 of its sessions have not ended .* \\(HTTP 409 conflict\\)\\n$`));
    expect(hub.sessions.size).toBe(2);
  });
});
