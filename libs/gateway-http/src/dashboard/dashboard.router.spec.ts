import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { DASHBOARD_POLICY, dashboardDirectory, dashboardRouter } from './dashboard.router';

describe('the dashboard router', () => {
  let dir: string;
  let server: Server;
  let base: string;
  const id = '0b9c8a0e-5d1c-4c53-9a51-1f0c1b7e4a11';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hub-dashboard-router-'));
    const app = express();
    app.use(dashboardRouter(dir));
    app.use((_req, res) => void res.status(404).json({ error: 'not_found' }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const build = (html: string) => {
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'assets', 'main-ABC123.js'), 'console.log(1)');
    writeFileSync(join(dir, 'index.html'), html);
  };

  it('answers 503 saying to build it while there is no build, in HTML or in JSON', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('npm run build');
    const json = await fetch(`${base}/sessions/${id}`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(503);
    expect(await json.json()).toEqual({ error: 'unavailable', message: expect.stringContaining('npm run build') });
  });

  it('serves the same page at each of its paths, under a strict policy and never cached without a check', async () => {
    build('<!doctype html><title>one</title>');
    for (const path of ['/', '/orchestrations', `/orchestrations/${id}`, `/sessions/${id}`, '/health-page']) {
      const response = await fetch(`${base}${path}`);
      expect({ path, status: response.status, body: await response.text() }).toEqual({ path, status: 200, body: '<!doctype html><title>one</title>' });
      expect(response.headers.get('content-security-policy')).toBe(DASHBOARD_POLICY);
      expect(response.headers.get('cache-control')).toBe('no-cache');
    }
    expect(DASHBOARD_POLICY).toContain("script-src 'self'");
    expect(DASHBOARD_POLICY).not.toContain('unsafe-inline');
  });

  it('serves a new build at the next request', async () => {
    build('<!doctype html><title>two, longer</title>');
    expect(await (await fetch(`${base}/`)).text()).toBe('<!doctype html><title>two, longer</title>');
  });

  it('serves the assets the build wrote, kept for a year, and nothing else', async () => {
    const asset = await fetch(`${base}/assets/main-ABC123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await asset.text()).toBe('console.log(1)');
    for (const path of ['/assets/missing.js', '/assets/../index.html', '/assets/%2e%2e/index.html', '/assets/', '/sessions', '/elsewhere']) {
      expect({ path, status: (await fetch(`${base}${path}`)).status }).toEqual({ path, status: 404 });
    }
  });

  it('finds the build in HUB_DASHBOARD_DIR, else dist/dashboard of the working directory', () => {
    expect(dashboardDirectory({}, '/srv/hub')).toBe('/srv/hub/dist/dashboard');
    expect(dashboardDirectory({ HUB_DASHBOARD_DIR: '/opt/dashboard' }, '/srv/hub')).toBe('/opt/dashboard');
    expect(dashboardDirectory({ HUB_DASHBOARD_DIR: 'build/ui' }, '/srv/hub')).toBe('/srv/hub/build/ui');
  });
});
