import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type Request, type Response, Router } from 'express';
import { DASHBOARD_ASSETS_PATH, HTTP_ROUTES, type HttpRoute } from '@hub/contracts';

/** Where the dashboard's build is, unless HUB_DASHBOARD_DIR says otherwise: what buildDashboard (@hub/infra) writes. */
export const DASHBOARD_DIR_VARIABLE = 'HUB_DASHBOARD_DIR';

/** HUB_DASHBOARD_DIR, else `<cwd>/dist/dashboard`. */
export function dashboardDirectory(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const configured = env[DASHBOARD_DIR_VARIABLE]?.trim();
  return resolve(cwd, configured || join('dist', 'dashboard'));
}

/**
 * The page's policy: scripts, styles and requests to this origin only, nothing inline (the build
 * writes no inline script or style), no frames, no plugins. Blob URLs are the downloads the page
 * makes of output files it fetched with the token.
 */
export const DASHBOARD_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Asset names carry a hash of their content (buildDashboard): kept a year; the page itself is checked every time. */
const ASSET_MAX_AGE_MS = 365 * 24 * 3600 * 1000;

const NOT_BUILT_MESSAGE = 'The dashboard is not built: run `npm run build` (it writes dist/dashboard, or HUB_DASHBOARD_DIR), then reload.';

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Hub dashboard: not built</title></head>
<body>
  <h1>Hub dashboard: not built</h1>
  <p>The dashboard is not built: run <code>npm run build</code> (it writes <code>dist/dashboard</code>, or <code>HUB_DASHBOARD_DIR</code>), then reload this page.</p>
  <p>The API works without it: <a href="/api/docs">/api/docs</a>.</p>
</body>
</html>
`;

/** The catalog's pages of the dashboard (its tag), as express paths: `/sessions/{id}` → `/sessions/:id`. */
const pagePaths = (): string[] =>
  Object.values(HTTP_ROUTES as Readonly<Record<string, HttpRoute>>)
    .filter((route) => route.tag === 'dashboard' && route.method === 'get')
    .map((route) => route.path.replace(/\{([^}]+)\}/g, ':$1'));

/**
 * The built index.html, read again only when the file changed (a build while the gateway runs is
 * served at the next request); undefined while there is none.
 */
class BuiltPage {
  private cached?: { mtimeMs: number; size: number; html: string };

  constructor(private readonly file: string) {}

  read(): string | undefined {
    let stat;
    try {
      stat = statSync(this.file);
    } catch {
      this.cached = undefined;
      return undefined;
    }
    if (this.cached?.mtimeMs !== stat.mtimeMs || this.cached.size !== stat.size) {
      this.cached = { mtimeMs: stat.mtimeMs, size: stat.size, html: readFileSync(this.file, 'utf8') };
    }
    return this.cached.html;
  }
}

/**
 * The web dashboard, mounted by createGatewayHttpApp beside the API's description: each of its pages
 * (the catalog's `dashboard*` routes: the same index.html, the app reads the path) and its assets
 * under /assets, from `dir` (dashboardDirectory()). No token: the pages hold no data; the API calls
 * the app makes carry the token the user gave it. When there is no build, a page is a 503 saying how
 * to make one.
 */
export function dashboardRouter(dir: string = dashboardDirectory()): Router {
  const page = new BuiltPage(join(dir, 'index.html'));
  const router = Router({ caseSensitive: true });
  const sendPage = (req: Request, res: Response) => {
    const html = page.read();
    if (html === undefined) return notBuilt(req, res);
    res
      .status(200)
      .type('text/html')
      .set({ 'content-security-policy': DASHBOARD_POLICY, 'cache-control': 'no-cache', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' })
      .send(html);
  };
  for (const path of pagePaths()) router.get(path, sendPage);
  // The app's files: not routes of the API (a name the build did not write falls through to the 404).
  router.use(
    DASHBOARD_ASSETS_PATH,
    express.static(join(dir, 'assets'), { index: false, redirect: false, dotfiles: 'deny', immutable: true, maxAge: ASSET_MAX_AGE_MS, fallthrough: true }),
  );
  return router;
}

function notBuilt(req: Request, res: Response): void {
  res.status(503).set('cache-control', 'no-store');
  if (req.accepts(['html', 'json']) === 'json') {
    res.json({ error: 'unavailable', message: NOT_BUILT_MESSAGE });
    return;
  }
  res.type('text/html').set('content-security-policy', "default-src 'none'").send(NOT_BUILT_PAGE);
}
