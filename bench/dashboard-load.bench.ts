// The dashboard's first load with 10,000 sessions stored (goal: under 1 s over the loopback): from the
// navigation to the sessions list shown with its first page of sessions, in headless Chromium
// (Debian's), cold (a new browser context: nothing cached) and warm (reloaded). See METHOD below, which
// the benchmark also prints.
//
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register bench/dashboard-load.bench.ts
//   (RUNS=7 loads of each kind by default)
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { OrchestrationView, SessionPage } from '@hub/contracts';
import { buildDashboard } from '@hub/infra';
import { BenchStack, describe, heading, ms, ROOT, runBench, startBenchStack } from './support/bench-kit';

const RUNS = Number(process.env['RUNS'] ?? 7);
const ORCHESTRATIONS = 10;
const SESSIONS_EACH = 1_000;
const TYPES = ['analysis', 'implementation', 'testing', 'review'];
const FIRST_PAGE = 50;

const METHOD = [
  `Stored: ${ORCHESTRATIONS} orchestrations of ${SESSIONS_EACH} sessions each, through the API (POST /api/v1/orchestrations,`,
  'not started: the registry writes them as it writes any), in chains of 10 (each session depends on the one before it);',
  `${ORCHESTRATIONS - 3} are then cancelled through the API (their sessions end \`cancelled\`, with a reason), 3 stay \`created\`;`,
  'then 20 sessions run for real on the test agent (prompt `true`) and complete, so the newest page has timings.',
  'No row is written behind the registry: these are the rows, indexes and outbox events a client would have made.',
  'Measured: headless Chromium on the same machine, 1280×800, the token put in the tab\'s session storage before the',
  'page loads (as after signing in). A load: page.goto("/") until the table shows its 50th row (a MutationObserver:',
  'no polling), read both from here (wall) and in the page (performance.now(): from the navigation\'s start).',
  'Cold: a new browser context each time (no cache, a new connection). Warm: the same tab reloaded (assets cached, as',
  'the gateway lets them be: their names change with their content). Also: the API\'s page of 50 sessions alone, the',
  'list searched for a text that no session holds (the worst case of `q`: every row is read), and the page of a',
  '1,000-session orchestration until its graph shows its 500 nodes (the first page of sessions; the quick layout).',
];

interface Load {
  wallMs: number;
  pageMs: number;
  /** The API's answer for the first page, as the page's resource timing saw it. */
  apiMs: number;
}

async function storeSessions(hub: BenchStack): Promise<{ orchestrationIds: string[]; ms: number }> {
  const began = performance.now();
  const orchestrationIds: string[] = [];
  for (let o = 0; o < ORCHESTRATIONS; o++) {
    const sessions = Array.from({ length: SESSIONS_EACH }, (_, j) => ({
      name: `o${o}-s${String(j).padStart(4, '0')}`,
      type: TYPES[j % TYPES.length],
      prompt: 'true',
      dependsOn: j % 10 === 0 ? [] : [`o${o}-s${String(j - 1).padStart(4, '0')}`],
    }));
    const view = await hub.api.request<OrchestrationView>('POST', '/api/v1/orchestrations', { name: `load-${o}`, sessions }, [201]);
    orchestrationIds.push(view.id);
    if (o >= 3) await hub.api.request('POST', `/api/v1/orchestrations/${view.id}/cancel`, undefined, [202]);
  }
  const real = await Promise.all(Array.from({ length: 20 }, (_, i) => hub.api.createSession({ name: `real-${i}`, type: 'analysis', prompt: 'true', start: true })));
  for (const session of real) await hub.watch.when(session.id);
  return { orchestrationIds, ms: performance.now() - began };
}

/** Every session the API lists (pages of 500), to check what is stored. */
async function countSessions(hub: BenchStack): Promise<number> {
  let count = 0;
  for (let cursor: string | null = ''; cursor !== null; ) {
    const page: SessionPage = await hub.api.request('GET', `/api/v1/sessions?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    count += page.items.length;
    cursor = page.nextCursor;
  }
  return count;
}

async function signedInPage(browser: Browser, context: Awaited<ReturnType<Browser['createBrowserContext']>> | null, token: string): Promise<Page> {
  const page = context ? await context.newPage() : await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.evaluateOnNewDocument((value: string) => (globalThis as unknown as { sessionStorage: { setItem(key: string, value: string): void } }).sessionStorage.setItem('hub.apiToken', value), token);
  return page;
}

/** One load of `path` until `selector` is in the page. */
async function load(page: Page, url: string, selector: string, reload = false): Promise<Load> {
  const began = performance.now();
  if (reload) await page.reload({ waitUntil: 'domcontentloaded' });
  else await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector(selector, { timeout: 30_000 });
  const wallMs = performance.now() - began;
  const timing = await page.evaluate(() => {
    const api = performance
      .getEntriesByType('resource')
      .filter((entry) => entry.name.includes('/api/v1/sessions?') || /\/api\/v1\/orchestrations\/[^/?]+$/.test(entry.name))
      .at(-1);
    return { pageMs: performance.now(), apiMs: api ? api.duration : NaN };
  });
  return { wallMs, ...timing };
}

async function measure(browser: Browser, token: string, url: string, selector: string): Promise<{ cold: Load[]; warm: Load[] }> {
  const cold: Load[] = [];
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.createBrowserContext();
    const page = await signedInPage(browser, context, token);
    cold.push(await load(page, url, selector));
    await context.close();
  }
  const page = await signedInPage(browser, null, token);
  await load(page, url, selector);
  const warm: Load[] = [];
  for (let run = 0; run < RUNS; run++) warm.push(await load(page, url, selector, true));
  await page.close();
  return { cold, warm };
}

function report(label: string, { cold, warm }: { cold: Load[]; warm: Load[] }): void {
  describe(`${label}, cold: wall (goto → shown)`, cold.map((l) => l.wallMs));
  describe(`${label}, cold: in the page (navigation start → shown)`, cold.map((l) => l.pageMs));
  describe(`${label}, cold: its API request`, cold.map((l) => l.apiMs));
  describe(`${label}, warm: wall (reload → shown)`, warm.map((l) => l.wallMs));
  describe(`${label}, warm: in the page`, warm.map((l) => l.pageMs));
}

runBench('dashboard-load: the dashboard\'s first load with 10,000 sessions stored', async () => {
  heading('method', METHOD);
  const build = await buildDashboard(ROOT);
  const hub = await startBenchStack({ HUB_RUNNER_SLOTS: '8' });
  const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  try {
    heading('storing the sessions');
    const stored = await storeSessions(hub);
    const count = await countSessions(hub);
    console.log(`  ${count} sessions stored in ${ms(stored.ms)} (dashboard ${build.rebuilt ? 'built' : 'already built'} in ${build.outDir})`);

    const apiTimes: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const began = performance.now();
      await hub.api.request('GET', `/api/v1/sessions?limit=${FIRST_PAGE}`);
      apiTimes.push(performance.now() - began);
    }
    const searchTimes: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const began = performance.now();
      await hub.api.request('GET', `/api/v1/sessions?limit=${FIRST_PAGE}&q=no-session-holds-this`);
      searchTimes.push(performance.now() - began);
    }

    const token = hub.stack.apiToken;
    const list = await measure(browser, token, `${hub.stack.gatewayUrl}/`, `table.sessions tbody tr:nth-child(${FIRST_PAGE})`);
    const search = await measure(browser, token, `${hub.stack.gatewayUrl}/?q=no-session-holds-this`, 'main .summary:not(:empty)');
    const dag = await measure(browser, token, `${hub.stack.gatewayUrl}/orchestrations/${stored.orchestrationIds[0]}`, '.react-flow__node:nth-child(500) .dag-node');

    heading('results');
    describe(`API alone: GET /api/v1/sessions?limit=${FIRST_PAGE}`, apiTimes);
    describe('API alone: the same, q matching no session', searchTimes);
    report('sessions list', list);
    report('list searched, nothing found', search);
    report('1,000-session orchestration, 500 nodes', dag);
    const p50 = [...list.cold.map((l) => l.wallMs)].sort((a, b) => a - b)[Math.floor(list.cold.length / 2)];
    console.log(`\n  first load of the sessions list, cold, p50: ${ms(p50)} (goal < 1 s: ${p50 < 1_000 ? 'met' : 'MISSED'})`);
  } finally {
    await browser.close();
    await hub.stop();
  }
});
