import { docker } from './support/docker';
import { readStatusChanges } from './support/fault/observe';
import { maxOverlap } from './support/timeline';
import { startTestStack, type TestStack } from './support/test-stack';

describe('a runner never runs more containers than it has slots', () => {
  let hub: TestStack;

  beforeAll(async () => {
    hub = await startTestStack({ HUB_RUNNER_SLOTS: '2' });
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  it('runs 6 independent sessions two at a time, in order of readiness, and completes them all', async () => {
    const orchestration = await hub.api.createOrchestration({
      name: 'six',
      start: true,
      sessions: [1, 2, 3, 4, 5, 6].map((n) => ({ name: `s${n}`, prompt: 'sleep 0.7' })),
    });
    const ours = new Set(orchestration.sessions.map((s) => s.id));

    // Docker's own view, sampled while they run.
    let mostSeen = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const running = await docker.listContainers({ filters: { label: ['hub.session'], status: ['running'] } });
        mostSeen = Math.max(mostSeen, running.filter((c) => ours.has(c.Labels['hub.session'])).length);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const done = await hub.api.waitForOrchestration(orchestration.id);
    sampling = false;
    await sampler;

    expect(done.sessions.map((s) => s.status)).toEqual(Array(6).fill('completed'));
    expect(maxOverlap(done.sessions)).toBe(2);
    expect(mostSeen).toBeLessThanOrEqual(2);
    expect(mostSeen).toBeGreaterThan(0);

    // In order of readiness, from the registry's own record (the stream): the runner takes the next
    // ready session only when a slot frees, so a session that became ready two or more places
    // later (slots = 2) is claimed (ready → starting) after it. Two taken into free slots at the
    // same moment may be claimed either way round.
    const changes = await readStatusChanges(hub.stack, orchestration.id);
    const readyOrder = changes.filter((c) => c.to === 'ready').map((c) => c.sessionId);
    const claimOrder = changes.filter((c) => c.to === 'starting').map((c) => c.sessionId);
    expect(new Set(readyOrder)).toEqual(ours);
    expect(new Set(claimOrder)).toEqual(ours);
    const outOfOrder = readyOrder.flatMap((earlier, i) =>
      readyOrder
        .slice(i + 2)
        .filter((later) => claimOrder.indexOf(later) < claimOrder.indexOf(earlier))
        .map((later) => `ready #${readyOrder.indexOf(later) + 1} was claimed before ready #${i + 1}`),
    );
    expect(outOfOrder).toEqual([]);
  });
});
