// Outbound notifications in the registry's process, against a real nats-server -js, real PostgreSQL
// (with the real migrations) and webhook receivers on 127.0.0.1: the registry's own handlers bound by
// its transport, each notification recorded once per event and webhook, signed, retried with
// backoff, every attempt written to its row, and read back over request/reply.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect, NatsConnection } from 'nats';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { DEFAULT_TENANT, EVENT_STREAM, EventEnvelope, HubNotificationSchema, RPC, SessionStatus } from '@hub/contracts';
import { makeTempDir, freePort, startNatsServer, startPostgresCluster, type NatsServer, type PostgresCluster } from '@hub/infra';
import { durableName, encodeJson, ensureEventStream, EventPublisher, JetStreamServer, MessagingModule, RethrowRpcErrors, RpcClient } from '@hub/messaging';
import {
  DeliverNotifications,
  NOTIFICATION_SOURCES,
  NotificationDeliveries,
  NotificationSettings,
  NotificationsModule,
  NOTIFICATIONS_SERVICE,
  parseWebhooks,
  verifyWebhookSignature,
} from '@hub/notifications';
import { openDatabase } from '@hub/persistence';
import { NotificationsController } from './notifications.controller';

const SECRET = 'webhook-secret-0123456789';
const URL_PASSWORD = 'url-pass-9876';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
    await sleep(50);
  }
}

describe('outbound notifications (real NATS, PostgreSQL and webhook receivers)', () => {
  let dir: string;
  let postgres: PostgresCluster;
  let nats: NatsServer;
  let nc: NatsConnection;
  let dataSource: DataSource;
  let receiver: Server;
  let app: INestMicroservice;
  let publisher: EventPublisher;
  const received: Received[] = [];
  const logLines: string[] = [];
  const sessionId = randomUUID();
  const orchestrationId = randomUUID();
  /** Published before the registry started: its notifications durables begin after it. */
  const beforeStart = randomUUID();

  const to = (path: string) => received.filter((r) => r.path === path);

  beforeAll(async () => {
    dir = await makeTempDir('hub-notifications');
    postgres = await startPostgresCluster({ dataDir: join(dir, 'pg'), fsync: false });
    nats = await startNatsServer({ storeDir: join(dir, 'nats') });
    nc = await connect({ servers: nats.url });
    await ensureEventStream(await nc.jetstreamManager());
    dataSource = await openDatabase(postgres.url);

    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        if (req.url === '/fail') res.writeHead(500).end('try again later');
        else if (req.url === '/moved') res.writeHead(302, { location: '/ok' }).end();
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const webhooks = parseWebhooks(
      JSON.stringify([
        { name: 'ok', url: `http://hub:${URL_PASSWORD}@${base.slice('http://'.length)}/ok`, secret: SECRET },
        { name: 'chat', url: `${base}/slack`, secret: SECRET, events: ['session.failed'], format: 'slack' },
        { name: 'failing', url: `${base}/fail`, secret: SECRET, events: ['orchestration.finished'] },
        { name: 'moved', url: `${base}/moved`, secret: SECRET, events: ['orchestration.finished'] },
        { name: 'down', url: `${nobody}/hook`, secret: SECRET, events: ['orchestration.finished'] },
      ]),
      'HUB_WEBHOOKS',
    );
    const settings: NotificationSettings = { webhooks, maxAttempts: 3, firstRetryDelayMs: 200, pollIntervalMs: 100, attemptTimeoutMs: 2_000 };
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => done(void logLines.push(String(chunk))) }));

    publisher = new EventPublisher(nc);
    await publisher.publish('session.status-changed', statusChanged('completed').data, beforeStart);

    @Module({ imports: [MessagingModule.forConnection(nc), NotificationsModule.forRoot(dataSource, settings, logger)], controllers: [NotificationsController] })
    class RegistryNotificationsModule {}
    app = await NestFactory.createMicroservice(RegistryNotificationsModule, {
      strategy: new JetStreamServer({ service: NOTIFICATIONS_SERVICE, nc, logger, events: NOTIFICATION_SOURCES, rpc: [RPC.notificationDeliveries] }),
      logger: false,
    });
    app.useGlobalFilters(new RethrowRpcErrors());
    await app.listen();
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await dataSource?.destroy();
    await nc?.close();
    await nats?.stop();
    await postgres?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  function statusChanged(status: SessionStatus, id = randomUUID()): EventEnvelope<'session.status-changed'> {
    const at = new Date().toISOString();
    return {
      id,
      subject: 'session.status-changed',
      occurredAt: at,
      data: { sessionId, orchestrationId, from: 'running', to: status, reason: 'exited with code 3', exitCode: 3, containerId: null, at },
    };
  }

  /** Every event of `subject` the stream holds has been handled and acknowledged by the registry's durable. */
  async function consumed(subject: (typeof NOTIFICATION_SOURCES)[number]): Promise<void> {
    const jsm = await nc.jetstreamManager();
    await eventually(async () => {
      const info = await jsm.consumers.info(EVENT_STREAM.name, durableName(NOTIFICATIONS_SERVICE, subject));
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, `${subject} consumed`);
  }

  const rows = (eventId: string) =>
    dataSource.query(`SELECT webhook, status, attempts, last_status_code, last_error, next_attempt_at, delivered_at FROM notification_deliveries WHERE event_id = $1 ORDER BY webhook`, [eventId]);

  it('sends every configured notification once per event, signed, even when the event arrives twice', async () => {
    const failed = statusChanged('failed');
    await publisher.publishEnvelope(failed);
    await publisher.publishEnvelope(failed); // JetStream drops it (same message id)
    await nc.jetstream().publish(failed.subject, encodeJson(failed), { msgID: `${failed.id}-copy` }); // a second copy the stream keeps
    await publisher.publishEnvelope(statusChanged('running')); // not a notification
    await consumed('session.status-changed');
    await eventually(() => to('/ok').length >= 1 && to('/slack').length >= 1, 'both webhooks reached');
    await app.get(DeliverNotifications).settled();
    await sleep(500);

    expect(to('/ok')).toHaveLength(1);
    expect(to('/slack')).toHaveLength(1);
    const [hub] = to('/ok');
    const body = HubNotificationSchema.parse(JSON.parse(hub.body));
    expect(body).toEqual({
      id: hub.headers['hub-delivery'],
      kind: 'session.failed',
      occurredAt: failed.occurredAt,
      event: failed,
      summary: `Session ${sessionId} of orchestration ${orchestrationId} failed: exited with code 3.`,
    });
    expect(hub.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'Hub-Webhooks',
      'hub-event': 'session.failed',
      authorization: `Basic ${Buffer.from(`hub:${URL_PASSWORD}`).toString('base64')}`,
    });
    const timestamp = Number(hub.headers['hub-timestamp']);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(30);
    expect(verifyWebhookSignature(SECRET, timestamp, hub.body, String(hub.headers['hub-signature-256']))).toBe(true);
    expect(verifyWebhookSignature('another-secret-0123456789', timestamp, hub.body, String(hub.headers['hub-signature-256']))).toBe(false);

    const [slack] = to('/slack');
    expect(JSON.parse(slack.body)).toEqual({ text: body.summary });
    expect(verifyWebhookSignature(SECRET, String(slack.headers['hub-timestamp']), slack.body, String(slack.headers['hub-signature-256']))).toBe(true);

    expect(await rows(failed.id)).toEqual([
      expect.objectContaining({ webhook: 'chat', status: 'delivered', attempts: 1, last_status_code: 204, last_error: null, next_attempt_at: null, delivered_at: expect.any(Date) }),
      expect.objectContaining({ webhook: 'ok', status: 'delivered', attempts: 1, last_status_code: 204, last_error: null, next_attempt_at: null }),
    ]);
  });

  it('notifies nothing of what was published before its durables existed', async () => {
    expect(await rows(beforeStart)).toEqual([]);
  });

  it('retries a receiver that answers 500, redirects or is down, with backoff, recording each attempt, then gives up', async () => {
    const finished: EventEnvelope<'orchestration.finished'> = {
      id: randomUUID(),
      subject: 'orchestration.finished',
      occurredAt: new Date().toISOString(),
      data: { orchestrationId, status: 'failed', publish: null, at: new Date().toISOString() },
    };
    await publisher.publishEnvelope(finished);
    await eventually(async () => (await rows(finished.id)).filter((r: { status: string }) => r.status === 'failed').length === 3, 'three deliveries failed');

    expect(await rows(finished.id)).toEqual([
      expect.objectContaining({ webhook: 'down', status: 'failed', attempts: 3, last_status_code: null, last_error: expect.stringContaining('ECONNREFUSED') }),
      expect.objectContaining({ webhook: 'failing', status: 'failed', attempts: 3, last_status_code: 500, last_error: 'answered 500: try again later', next_attempt_at: null, delivered_at: null }),
      expect.objectContaining({ webhook: 'moved', status: 'failed', attempts: 3, last_status_code: 302, last_error: 'answered 302' }),
      expect.objectContaining({ webhook: 'ok', status: 'delivered', attempts: 1 }),
    ]);
    // The redirect was never followed; each attempt came after the one before, 200 ms and then 400 ms later at least.
    expect(to('/moved')).toHaveLength(3);
    const attempts = to('/fail').map((r) => r.at);
    expect(attempts).toHaveLength(3);
    expect(attempts[1] - attempts[0]).toBeGreaterThanOrEqual(190);
    expect(attempts[2] - attempts[1]).toBeGreaterThanOrEqual(390);
    expect(new Set(to('/fail').map((r) => r.headers['hub-delivery'])).size).toBe(1);
  });

  it('gives up at once on a delivery whose webhook is no longer configured', async () => {
    const eventId = randomUUID();
    await app.get(NotificationDeliveries).record([
      { id: randomUUID(), webhook: 'gone', eventId, kind: 'session.completed', subject: 'session.status-changed', payload: '{}' },
    ]);
    app.get(DeliverNotifications).kick();
    await eventually(async () => (await rows(eventId))[0]?.status === 'failed', 'the delivery failed');
    expect(await rows(eventId)).toEqual([
      expect.objectContaining({ webhook: 'gone', attempts: 1, last_error: 'webhook "gone" is no longer configured' }),
    ]);
  });

  it('lists deliveries over request/reply: newest first, filtered, a page at a time, without bodies', async () => {
    const rpc = new RpcClient(nc);
    const operator = { key: 'bootstrap', tenant: DEFAULT_TENANT, scope: 'admin' } as const;
    const failedOnes = await rpc.call(RPC.notificationDeliveries, { status: ['failed'], kind: ['orchestration.finished'] }, operator);
    expect(failedOnes.items.map((d) => d.webhook).sort()).toEqual(['down', 'failing', 'moved']);
    expect(failedOnes.items[0]).toMatchObject({ status: 'failed', attempts: 3, subject: 'orchestration.finished' });

    const all = await app.get(NotificationDeliveries).list({});
    expect(all.items.length).toBe(7);
    expect(all.items.every((d) => !('payload' in d))).toBe(true);
    const newestFirst = all.items.map((d) => d.createdAt);
    expect([...newestFirst].sort().reverse()).toEqual(newestFirst);

    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await rpc.call(RPC.notificationDeliveries, { limit: 2, cursor }, operator);
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(all.items.map((d) => d.id));

    expect((await rpc.call(RPC.notificationDeliveries, { webhook: 'chat' }, operator)).items).toHaveLength(1);
    await expect(rpc.call(RPC.notificationDeliveries, { cursor: 'bm90LWEtY3Vyc29y' }, operator)).rejects.toThrow('cursor is not one this API returned');
  });

  it('logs one line per attempt naming the webhook, never its secret or its URL', () => {
    const lines = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const attempts = lines.filter((line) => typeof line.attempt === 'number');
    expect(attempts.filter((line) => line.webhook === 'failing').map((line) => [line.attempt, line.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 500],
    ]);
    expect(attempts.find((line) => line.webhook === 'ok')).toMatchObject({ msg: 'webhook notification delivered', kind: 'session.failed', statusCode: 204 });
    const everything = logLines.join('');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(URL_PASSWORD);
  });
});
