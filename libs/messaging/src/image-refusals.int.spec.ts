// The image refusals of ready sessions, in NATS KV on a real nats-server -js started with Hub's users
// and permissions, used as the container-runner's NATS user (the only one the contracts let write them).
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { connect, NatsConnection } from 'nats';
import { BUS_PRINCIPALS, IMAGE_REFUSALS_BUCKET } from '@hub/contracts';
import { hubNatsUsers, loadNatsPasswords, makeTempDir, natsCredentialsOf, startNatsServer, type NatsServer } from '@hub/infra';
import { ImageRefusals } from './image-refusals';

const SESSION = '6f1d2c3b-4a59-4e87-9d6c-5b4a39281706';

describe('ImageRefusals (real nats-server -js, as container-runner)', () => {
  let dir: string;
  let nats: NatsServer;
  let passwords: Record<string, string>;
  const connections: NatsConnection[] = [];
  const as = async (principal: (typeof BUS_PRINCIPALS)[number]) => {
    const nc = await connect({ servers: nats.url, ...natsCredentialsOf(principal, passwords) });
    connections.push(nc);
    return nc;
  };

  beforeAll(async () => {
    dir = await makeTempDir('hub-image-refusals');
    passwords = await loadNatsPasswords(dir, BUS_PRINCIPALS, {});
    nats = await startNatsServer({ storeDir: join(dir, 'nats'), users: hubNatsUsers(passwords) });
  }, 60_000);

  afterAll(async () => {
    for (const nc of connections) await nc.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('records every runner that refused an attempt, runners refusing at once included, each once', async () => {
    const runners = await Promise.all(['a', 'b', 'c'].map(() => as('container-runner')));
    const refusals = runners.map((nc) => new ImageRefusals(nc));

    const answers = await Promise.all(refusals.map((r, i) => r.refuse(SESSION, 1, 'hub/x:latest', `runner-${'abc'[i]}`)));

    expect(answers.map((answer) => answer.length).sort()).toEqual([1, 2, 3]);
    expect((await refusals[0].refuse(SESSION, 1, 'hub/x:latest', 'runner-a')).sort()).toEqual(['runner-a', 'runner-b', 'runner-c']);
    // Another attempt starts afresh.
    expect(await refusals[1].refuse(SESSION, 2, 'hub/x:latest', 'runner-b')).toEqual(['runner-b']);
    const info = await (await runners[0].jetstreamManager()).streams.info(`KV_${IMAGE_REFUSALS_BUCKET.name}`);
    expect(info.config.max_age).toBe(IMAGE_REFUSALS_BUCKET.maxAgeMs * 1_000_000);
  });

  it('is refused to the other services', async () => {
    const gateway = new ImageRefusals(await as('gateway'));
    await expect(gateway.refuse(SESSION, 3, 'hub/x:latest', 'runner-a')).rejects.toThrow();
  });
});
