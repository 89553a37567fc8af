import { docker } from './support/docker';
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
  });
});
