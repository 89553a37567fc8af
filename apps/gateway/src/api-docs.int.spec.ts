import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { connect, type NatsConnection } from 'nats';
import pino from 'pino';
import puppeteer, { type Browser } from 'puppeteer-core';
import { API_DOCS_PATH, HTTP_ROUTES, HubError, OPENAPI_DOCUMENT_PATH } from '@hub/contracts';
import { createGatewayHttpApp, hubOpenApiDocument } from '@hub/gateway-http';
import { HttpHubApi, HttpProblem } from '@hub/hub-api';
import { startNatsServer, type NatsServer } from '@hub/infra';
import { GatewayModule } from './gateway.module';

/** Debian's Chromium (scripts/ensure-deps.sh installs it); puppeteer-core brings no browser of its own. */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(__dirname, '../../../docs/api-docs.png');
const TOKEN = 'test-token-0123456789abcdef';

/**
 * The API's description as a person reads it: the gateway as it runs (on a real nats-server) serves
 * /api/openapi.json and /api/docs without the token, and the page, opened in a real headless
 * Chromium, renders every operation from files the gateway serves itself (no other host is reached).
 */
describe("the API's description, as the gateway serves it", () => {
  let natsServer: NatsServer;
  let stateDir: string;
  let nc: NatsConnection;
  let app: NestExpressApplication;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'hub-api-docs-test-'));
    natsServer = await startNatsServer({ storeDir: stateDir });
    nc = await connect({ servers: natsServer.url, name: 'gateway' });
    const logger = pino({ level: 'silent' });
    app = await createGatewayHttpApp(GatewayModule.forRoot(nc, logger, { stateDir }), { apiToken: TOKEN, maxBodyBytes: 1024 * 1024, logger });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await nc?.close();
    await natsServer?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('serves the OpenAPI document without the token, while the API itself still wants it', async () => {
    const document = await fetch(`${baseUrl}${OPENAPI_DOCUMENT_PATH}`);
    expect([document.status, document.headers.get('content-type')]).toEqual([200, 'application/json; charset=utf-8']);
    expect(await document.json()).toEqual(JSON.parse(JSON.stringify(hubOpenApiDocument())));
    expect((await fetch(`${baseUrl}/api/v1/sessions`)).status).toBe(401);
    expect((await fetch(`${baseUrl}${API_DOCS_PATH}/index.html`)).status).toBe(404);
  });

  it('is what HttpHubApi is built from: the client reads the real gateway\'s answers and refusals by it', async () => {
    const hub = new HttpHubApi({ baseUrl, apiToken: TOKEN, timeoutMs: 20_000 });
    // No registry answers here: the report says so, with 503, which the route declares as an answer.
    expect(await hub.readiness()).toMatchObject({ status: 'unavailable', checks: expect.any(Array) });
    await expect(hub.getSession('not-a-uuid')).rejects.toEqual(expect.objectContaining({ code: 'bad_request' }));
    await expect(hub.getSession('not-a-uuid')).rejects.toBeInstanceOf(HubError);
    await expect(new HttpHubApi({ baseUrl, apiToken: 'wrong' }).listSessions({})).rejects.toBeInstanceOf(HttpProblem);
  }, 60_000);

  it('renders every operation in Chromium, from the gateway alone', async () => {
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      if (request.url().startsWith(baseUrl) || request.url().startsWith('data:')) return void request.continue();
      elsewhere.push(request.url());
      void request.abort();
    });
    await page.setViewport({ width: 1280, height: 900 });

    const response = await page.goto(`${baseUrl}${API_DOCS_PATH}`, { waitUntil: 'networkidle0' });
    expect([response?.status(), response?.headers()['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
    await page.waitForSelector('.opblock', { timeout: 20_000 });
    const operations = await page.$$eval('.opblock .opblock-summary-path', (paths) => paths.map((path) => path.textContent?.replace(/\u200b/g, '')));
    expect(operations).toHaveLength(Object.keys(HTTP_ROUTES).length);
    expect(operations).toEqual(expect.arrayContaining(['/api/v1/sessions/{id}', '/api/v1/events', '/git/{repository}/info/refs']));
    expect(await page.$eval('.info .title', (title) => title.textContent)).toContain('Hub');
    expect(elsewhere).toEqual([]);

    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT as `${string}.png`, fullPage: false });
  }, 60_000);
});
