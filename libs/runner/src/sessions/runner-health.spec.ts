import { createLogger } from '@hub/config';
import { EgressPolicy } from '@hub/contracts';
import { ImagePacing, parseImagePacing } from '../pacing/image-pacing';
import type { ContainerEngine } from '../ports/container-engine.port';
import type { RunnerSettings } from '../runner.tokens';
import { RunnerSlots } from '../slots/runner-slots';
import { parseEgressOverrides } from '../egress/egress-overrides';
import { NetworkPolicy } from './image-policy';
import { RunnerHealth } from './runner-health';

/** An engine with the images and networks it is given, as `dockerd --bridge=none` has them. */
const engine = (images: string[], networks: string[]) =>
  ({
    ping: async () => undefined,
    imageStatus: async (image: string) => (images.includes(image) ? 'present' : 'missing'),
    networkExists: async (name: string) => networks.includes(name),
  }) as unknown as ContainerEngine;

function health(
  settings: Partial<RunnerSettings>,
  images: string[] = [],
  networks = ['none', 'host'],
  pacing = new ImagePacing([]),
): RunnerHealth {
  const all = {
    runnerId: 'runner-test',
    expectedImages: [],
    networks: new NetworkPolicy(''),
    egress: { policy: new EgressPolicy('none'), resolve: new Map(), bridgeImage: 'hub/egress-bridge:latest' },
    ...settings,
  } as RunnerSettings;
  return new RunnerHealth(engine(images, networks), all, new RunnerSlots(2), pacing, createLogger('health-test', 'silent'));
}

describe('RunnerHealth', () => {
  it('says a network HUB_IMAGE_NETWORKS names is not on the engine, and what to do instead', async () => {
    const report = await health({ networks: new NetworkPolicy('hub/claude-code*=bridge') }).report();

    expect(report.checks.find((c) => c.name === 'network bridge')).toEqual({
      name: 'network bridge',
      ok: false,
      detail:
        "HUB_IMAGE_NETWORKS names the network bridge: this Docker engine has no bridge network (dockerd --bridge=none): use HUB_EGRESS to allow destinations through Hub's proxy instead",
      fix: 'drop bridge from HUB_IMAGE_NETWORKS and allow the destinations with HUB_EGRESS (or start dockerd with a bridge)',
    });
  });

  it('shows the egress policy in force, and how to build a missing bridge image', async () => {
    const report = await health({
      expectedImages: ['hub/egress-bridge:latest'],
      egress: {
        policy: new EgressPolicy('hub/claude-code*=api.anthropic.com,@repository'),
        resolve: parseEgressOverrides('api.anthropic.com=127.0.0.1:8443'),
        bridgeImage: 'hub/egress-bridge:latest',
      },
    }).report();

    expect(report.checks.find((c) => c.name === 'egress')).toEqual({
      name: 'egress',
      ok: true,
      detail:
        "HUB_EGRESS: hub/claude-code*: api.anthropic.com:443, the git host of the session's https repository (:443); every other image: nothing; " +
        'HUB_EGRESS_RESOLVE: api.anthropic.com → 127.0.0.1:8443',
    });
    expect(report.checks.find((c) => c.name === 'image hub/egress-bridge:latest')).toMatchObject({
      ok: false,
      fix: 'run `bash images/egress-bridge/build.sh`',
    });
  });

  it('lists the pacing rules and the images paused for a rate limit, until when and why', async () => {
    const pacing = new ImagePacing(parseImagePacing('hub/claude-code*=concurrent:4,perMinute:10;hub/other:latest=concurrent:2'));
    expect((await health({}, [], undefined, pacing).report()).checks.find((c) => c.name === 'pacing')).toEqual({
      name: 'pacing',
      ok: true,
      detail: 'HUB_IMAGE_PACING: hub/claude-code*: 4 at once, 10 started a minute; hub/other:latest: 2 at once; no image paused',
    });

    const until = new Date(Date.now() + 3_600_000).toISOString();
    pacing.pauseUntil('hub/claude-code:1', until, 'usage limit reached');
    pacing.pauseUntil('hub/test-agent', until, 'rate limited');

    expect((await health({}, [], undefined, pacing).report()).checks.find((c) => c.name === 'pacing')).toEqual({
      name: 'pacing',
      ok: true,
      detail:
        'HUB_IMAGE_PACING: hub/claude-code*: 4 at once, 10 started a minute; hub/other:latest: 2 at once; ' +
        `paused: hub/claude-code* until ${until} (usage limit reached); hub/test-agent:latest until ${until} (rate limited)`,
    });
  });
});
