// The bus trusts only Hub's services: nats-server started with the users and permissions the
// contracts give each principal (issue 15). No credentials, no connection; the resolver's
// credentials cannot forge what only the runner may say.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { AckPolicy, connect, ErrorCode, NatsConnection } from 'nats';
import { BUS_PRINCIPALS, EVENT_STREAM, EVENTS } from '@hub/contracts';
import { hubNatsUsers, loadNatsPasswords, natsCredentialsFile, natsCredentialsOf } from './nats-auth';
import { startNatsServer, type NatsServer } from './nats-server';
import { makeTempDir } from './temp-dir';

const REGISTRY_DURABLE = 'session-registry--container_exited';

describe('NATS with identities and permissions', () => {
  let dir: string;
  let nats: NatsServer;
  let passwords: Record<string, string>;
  let registry: NatsConnection;
  const as = (principal: (typeof BUS_PRINCIPALS)[number]) =>
    connect({ servers: nats.url, name: `test-${principal}`, ...natsCredentialsOf(principal, passwords) });

  beforeAll(async () => {
    dir = await makeTempDir('hub-nats-auth');
    passwords = await loadNatsPasswords(dir, BUS_PRINCIPALS, {});
    nats = await startNatsServer({ storeDir: join(dir, 'nats'), users: hubNatsUsers(passwords) });
    // The registry as it runs: the events stream, and its durable on container.exited.
    registry = await as('session-registry');
    const jsm = await registry.jetstreamManager();
    await jsm.streams.add({ name: EVENT_STREAM.name, subjects: [...EVENT_STREAM.subjects] });
    await jsm.consumers.add(EVENT_STREAM.name, {
      durable_name: REGISTRY_DURABLE,
      filter_subject: EVENTS.containerExited,
      ack_policy: AckPolicy.Explicit,
    });
  });

  afterAll(async () => {
    await registry?.close();
    await nats?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps the generated passwords and the server config to their owner (0600)', async () => {
    expect((await fs.stat(natsCredentialsFile(dir))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(join(dir, 'nats', 'nats-server.conf'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(join(dir, 'nats'))).mode & 0o777).toBe(0o700);
    expect(await loadNatsPasswords(dir, BUS_PRINCIPALS, {})).toEqual(passwords);
  });

  it('refuses a connection without credentials, or with a wrong password', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toMatchObject({ code: ErrorCode.AuthorizationViolation });
    await expect(
      connect({ servers: nats.url, reconnect: false, user: 'dependency-resolver', pass: 'guessed' }),
    ).rejects.toMatchObject({ code: ErrorCode.AuthorizationViolation });
  });

  it("refuses container.exited from the resolver's credentials: it never reaches the registry's durable", async () => {
    const resolver = await as('dependency-resolver');
    const errors: string[] = [];
    void (async () => {
      for await (const status of resolver.status()) if (status.type === 'error') errors.push(String(status.data));
    })();
    const forged = JSON.stringify({ id: 'forged', subject: EVENTS.containerExited, data: {} });
    resolver.publish(EVENTS.containerExited, new TextEncoder().encode(forged));
    await expect(resolver.jetstream().publish(EVENTS.containerExited, new TextEncoder().encode(forged), { timeout: 1_000 })).rejects.toThrow();
    await resolver.flush();
    await waitFor(() => errors.length > 0);
    expect(errors).toContain(ErrorCode.PermissionsViolation);
    expect(await fs.readFile(nats.logFile, 'utf8')).toMatch(/Publish Violation.*"dependency-resolver".*"container\.exited"/);
    await resolver.close();

    const jsm = await registry.jetstreamManager();
    expect((await jsm.streams.info(EVENT_STREAM.name)).state.messages).toBe(0);
    expect((await jsm.consumers.info(EVENT_STREAM.name, REGISTRY_DURABLE)).num_pending).toBe(0);
  });

  it("lets the runner publish it, and the registry's durable receives it", async () => {
    const runner = await as('container-runner');
    await runner.jetstream().publish(EVENTS.containerExited, new TextEncoder().encode('{}'));
    await runner.close();
    const consumer = await registry.jetstream().consumers.get(EVENT_STREAM.name, REGISTRY_DURABLE);
    const message = await consumer.next({ expires: 2_000 });
    expect(message?.subject).toBe(EVENTS.containerExited);
    message?.ack();
  });

  it("keeps each service off others' replies, request subjects it does not answer, and the stream's management", async () => {
    const resolver = await as('dependency-resolver');
    const denied: string[] = [];
    const sub = resolver.subscribe('_INBOX.gateway.>', { callback: (error) => error && denied.push(error.message) });
    resolver.subscribe('hub.registry.sessions.create', { callback: (error) => error && denied.push(error.message) });
    await resolver.flush();
    await waitFor(() => denied.length >= 2);
    expect(denied.join('\n')).toMatch(/permissions violation for subscription to "_INBOX.gateway.>"/i);
    expect(sub.isClosed()).toBe(true);
    await resolver.close();

    const integrations = await as('integrations');
    const jsm = await integrations.jetstreamManager();
    await expect(jsm.consumers.delete(EVENT_STREAM.name, REGISTRY_DURABLE)).rejects.toThrow();
    await expect(jsm.streams.purge(EVENT_STREAM.name)).rejects.toThrow();
    expect((await jsm.streams.info(EVENT_STREAM.name)).config.name).toBe(EVENT_STREAM.name);
    await integrations.close();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
