// GET /api/v1/usage through the gateway as it runs (the Nest HTTP app on a real nats-server), the
// test answering the registry's request subject: the query validated and passed on with the caller,
// the sums answered as the registry gave them, and the typed client reading the same route.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { connect, NatsConnection } from 'nats';
import pino from 'pino';
import { CALLER_HEADER, RPC, UsageSummary } from '@hub/contracts';
import { createGatewayHttpApp } from '@hub/gateway-http';
import { HttpHubApi } from '@hub/hub-api';
import { startNatsServer, type NatsServer } from '@hub/infra';
import { decodeJson, encodeJson } from '@hub/messaging';
import { GatewayModule } from './gateway.module';

const TOKEN = 'test-token-0123456789abcdef';

const spent = (total: number, costUsd: number | null) => ({ tokens: { input: total, output: 0, cacheRead: 0, cacheWrite: 0, total }, costUsd });
const summary: UsageSummary = {
  tenant: 'default',
  since: '2026-11-01T00:00:00.000Z',
  orchestrations: 3,
  total: spent(3000, 0.5),
  byKey: [
    { key: 'ci-writer', orchestrations: 2, usage: spent(2000, 0.5) },
    { key: null, orchestrations: 1, usage: spent(1000, null) },
  ],
  others: null,
};

describe('GET /api/v1/usage', () => {
  let natsServer: NatsServer;
  let storeDir: string;
  let gatewayNc: NatsConnection;
  let registryNc: NatsConnection;
  let app: NestExpressApplication;
  let baseUrl: string;
  const asked: { request: unknown; caller: unknown }[] = [];

  beforeAll(async () => {
    storeDir = await mkdtemp(join(tmpdir(), 'hub-gateway-usage-'));
    natsServer = await startNatsServer({ storeDir });
    const logger = pino({ level: 'silent' });
    gatewayNc = await connect({ servers: natsServer.url });
    registryNc = await connect({ servers: natsServer.url });
    registryNc.subscribe(RPC.usageSummary, {
      callback: (_error, msg) => {
        asked.push({ request: decodeJson(msg.data), caller: JSON.parse(msg.headers?.get(CALLER_HEADER) ?? 'null') });
        msg.respond(encodeJson({ ok: true, data: summary }));
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

  const get = (query: string, token = TOKEN) => fetch(`${baseUrl}/api/v1/usage${query}`, { headers: { authorization: `Bearer ${token}` } });

  it("answers the registry's sums, asking for the caller's tenant since the time given", async () => {
    asked.length = 0;
    const response = await get('?since=2026-11-01');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(summary);
    expect(await (await get('')).json()).toEqual(summary);
    expect(asked).toEqual([
      { request: { since: '2026-11-01' }, caller: { key: 'bootstrap', tenant: 'default', scope: 'admin' } },
      { request: {}, caller: { key: 'bootstrap', tenant: 'default', scope: 'admin' } },
    ]);
  });

  it('refuses a bad `since` or an unknown parameter (400, naming it) and a missing token (401), asking nothing', async () => {
    asked.length = 0;
    for (const query of ['?since=yesterday', '?since=2026-13-01', '?since=2026-11-01T00:00:00', '?tenant=team-b']) {
      const response = await get(query);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
    }
    expect((await get('', 'wrong-token')).status).toBe(401);
    expect(asked).toEqual([]);
  });

  it('is what the typed client reads', async () => {
    const client = new HttpHubApi({ baseUrl, apiToken: TOKEN });
    expect(await client.usageSummary({ since: '2026-11-01T00:00:00Z' })).toEqual(summary);
  });
});
