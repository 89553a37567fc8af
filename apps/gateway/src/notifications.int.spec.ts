// GET /api/v1/notifications/deliveries through the gateway as it runs (the Nest HTTP app on a real
// nats-server), the test answering the registry's request subject: the query validated and passed
// on, the page answered as the registry gave it, and the typed client reading the same route.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { connect, NatsConnection } from 'nats';
import pino from 'pino';
import { NotificationDeliveryPage, RPC } from '@hub/contracts';
import { createGatewayHttpApp } from '@hub/gateway-http';
import { HttpHubApi } from '@hub/hub-api';
import { startNatsServer, type NatsServer } from '@hub/infra';
import { decodeJson, encodeJson } from '@hub/messaging';
import { GatewayModule } from './gateway.module';

const TOKEN = 'test-token-0123456789abcdef';

const page: NotificationDeliveryPage = {
  items: [
    {
      id: randomUUID(),
      webhook: 'ci',
      eventId: randomUUID(),
      kind: 'session.failed',
      subject: 'session.status-changed',
      status: 'failed',
      attempts: 8,
      lastStatusCode: 500,
      lastError: 'answered 500',
      nextAttemptAt: null,
      deliveredAt: null,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    },
  ],
  nextCursor: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
};

describe('GET /api/v1/notifications/deliveries', () => {
  let natsServer: NatsServer;
  let storeDir: string;
  let gatewayNc: NatsConnection;
  let registryNc: NatsConnection;
  let app: NestExpressApplication;
  let baseUrl: string;
  const asked: unknown[] = [];

  beforeAll(async () => {
    storeDir = await mkdtemp(join(tmpdir(), 'hub-gateway-notifications-'));
    natsServer = await startNatsServer({ storeDir });
    const logger = pino({ level: 'silent' });
    gatewayNc = await connect({ servers: natsServer.url });
    registryNc = await connect({ servers: natsServer.url });
    registryNc.subscribe(RPC.notificationDeliveries, {
      callback: (_error, msg) => {
        asked.push(decodeJson(msg.data));
        msg.respond(encodeJson({ ok: true, data: page }));
      },
    });
    await registryNc.flush();
    app = await createGatewayHttpApp(GatewayModule.forRoot(gatewayNc, logger, { stateDir: storeDir }), { apiToken: TOKEN, maxBodyBytes: 1024 * 1024, logger });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await gatewayNc?.close();
    await registryNc?.close();
    await natsServer?.stop();
    await rm(storeDir, { recursive: true, force: true });
  });

  const get = (query: string, token = TOKEN) =>
    fetch(`${baseUrl}/api/v1/notifications/deliveries${query}`, { headers: { authorization: `Bearer ${token}` } });

  it("answers the registry's page for the filters given", async () => {
    asked.length = 0;
    const response = await get('?status=failed,pending&webhook=ci&kind=session.failed&limit=10');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(page);
    expect(asked).toEqual([{ status: ['failed', 'pending'], webhook: 'ci', kind: ['session.failed'], limit: 10 }]);
  });

  it('refuses a bad filter or page size (400, naming it) and a missing token (401), asking nothing', async () => {
    asked.length = 0;
    for (const query of ['?status=lost', '?limit=501', '?kind=session.exploded', '?webhook=a%20b', '?secret=x']) {
      const response = await get(query);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
    }
    expect((await get('', 'wrong-token')).status).toBe(401);
    expect(asked).toEqual([]);
  });

  it('is what the typed client reads', async () => {
    const client = new HttpHubApi({ baseUrl, apiToken: TOKEN });
    expect(await client.listNotificationDeliveries({ status: ['failed'], limit: 1 })).toEqual(page);
  });
});
