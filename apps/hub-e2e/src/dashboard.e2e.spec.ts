// The web dashboard in a real headless Chromium (Debian's, driven by puppeteer-core), on the whole
// stack: the gateway serves the build at /, the page asks for the token once and reads the API with
// it. Sessions and orchestrations are submitted through the API, as anyone would, and watched in the
// page as they run. Screenshots go to docs/dashboard/.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { buildDashboard } from '@hub/infra';
import { startTestStack, type TestStack } from './support/test-stack';

const WORKSPACE_ROOT = resolve(__dirname, '../../..');
const SCREENSHOTS = join(WORKSPACE_ROOT, 'docs', 'dashboard');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/** The green of a completed session (styles.css, --status-completed). */
const COMPLETED_GREEN = 'rgb(17, 99, 41)';

// The functions given to page.evaluate and its kin run in the page (puppeteer sends their text): they
// use the browser's globals, which this file, type-checked for node, knows by these names only.
declare const window: any, document: any, sessionStorage: any;
declare function getComputedStyle(element: unknown): { display: string; backgroundColor: string };

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

describe('the dashboard, in a browser', () => {
  let hub: TestStack;
  let browser: Browser;
  let page: Page;
  /** What the browser said went wrong: script errors, refused by the page's policy. */
  const problems: string[] = [];

  beforeAll(async () => {
    const [, stack] = await Promise.all([buildDashboard(WORKSPACE_ROOT), startTestStack()]);
    hub = stack;
    browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
  });

  const url = (path: string) => `${hub.api.baseUrl}${path}`;

  async function newPage(): Promise<Page> {
    const opened = await browser.newPage();
    await opened.setViewport({ width: 1280, height: 860 });
    opened.on('pageerror', (error) => problems.push(`page error: ${(error as Error).message}`));
    opened.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`policy: ${message.text()}`);
    });
    return opened;
  }

  /** Opens a page of the dashboard (a full load: the app starts there) and waits for `selector`. */
  async function open(path: string, selector: string): Promise<void> {
    await page.goto(url(path), { waitUntil: 'domcontentloaded' });
    await page.waitForSelector(selector, { timeout: 15_000 });
  }

  /** axe-core's serious and critical violations on the page as it is. */
  async function seriousViolations(target: Page = page): Promise<string[]> {
    await target.evaluate(AXE);
    const violations: AxeViolation[] = await target.evaluate(() => window.axe.run().then((result: { violations: AxeViolation[] }) => result.violations));
    return violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  }

  const nodeStatuses = () =>
    page.$$eval('.dag-node', (nodes) => Object.fromEntries(nodes.map((node) => [node.getAttribute('data-session'), node.getAttribute('data-status')])));

  it('refuses a wrong token with a message, then signs in with the right one (kept for the tab, never in a URL)', async () => {
    page = await newPage();
    const response = await page.goto(url('/'), { waitUntil: 'domcontentloaded' });
    expect(response!.status()).toBe(200);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('#token');
    expect(await seriousViolations()).toEqual([]);

    await page.type('#token', 'not-the-token-0123456789');
    await page.click('button[type=submit]');
    await page.waitForSelector('#token-error');
    expect(await page.$eval('#token-error', (error) => error.textContent)).toMatch(/refused this token \(401/);
    expect(await page.$('nav[aria-label=Dashboard]')).toBeNull();

    await page.click('#token', { clickCount: 3 });
    await page.type('#token', hub.stack.apiToken);
    await page.click('button[type=submit]');
    await page.waitForSelector('nav[aria-label=Dashboard]');
    expect(await page.$eval('h1', (heading) => heading.textContent)).toBe('Sessions');
    expect(await page.evaluate(() => sessionStorage.getItem('hub.apiToken'))).toBe(hub.stack.apiToken);
    expect(page.url()).not.toContain(hub.stack.apiToken);
  });

  it("draws an orchestration's graph and turns every node green, live", async () => {
    const orchestration = await hub.api.createOrchestration({
      name: 'pipeline',
      start: true,
      sessions: [
        { name: 'analyse', type: 'analysis', prompt: 'echo analysing; sleep 2' },
        { name: 'build-api', type: 'implementation', prompt: 'echo api; sleep 2', dependsOn: ['analyse'] },
        { name: 'build-ui', type: 'implementation', prompt: 'echo ui; sleep 3', dependsOn: ['analyse'] },
        { name: 'review', type: 'review', prompt: 'echo review; sleep 1', dependsOn: ['build-api', 'build-ui'] },
      ],
    });
    await open(`/orchestrations/${orchestration.id}`, '.dag-node');
    await page.evaluate(() => (window.loadedOnce = true));
    expect(Object.keys(await nodeStatuses()).sort()).toEqual(['analyse', 'build-api', 'build-ui', 'review']);
    expect(await page.$$('.react-flow__edge')).toHaveLength(4);

    // In progress: the first session done, the next ones running.
    await page.waitForFunction(
      () => document.querySelector('.dag-node[data-session=analyse]')?.getAttribute('data-status') === 'completed' && !!document.querySelector('.dag-node[data-status=running]'),
      { timeout: 20_000 },
    );
    const inProgress = await nodeStatuses();
    expect(inProgress['review']).not.toBe('completed');
    await page.screenshot({ path: join(SCREENSHOTS, 'orchestration-dag.png'), fullPage: true });

    await page.waitForFunction(() => [...document.querySelectorAll('.dag-node')].every((node: any) => node.dataset.status === 'completed'), {
      timeout: 40_000,
    });
    const colours = await page.$$eval('.dag-node', (nodes) => nodes.map((node) => getComputedStyle(node).backgroundColor));
    expect(colours).toEqual(Array(4).fill(COMPLETED_GREEN));
    await page.waitForFunction(() => document.querySelector('.page-head [data-status]')?.getAttribute('data-status') === 'completed', { timeout: 10_000 });
    // Nothing was reloaded: the page that saw the sessions start saw them end.
    expect(await page.evaluate(() => window.loadedOnce)).toBe(true);
    expect(await seriousViolations()).toEqual([]);
  });

  it("opens a running session and shows its log lines as they are printed", async () => {
    const session = await hub.api.createSession({ name: 'ticker', type: 'analysis', prompt: 'for i in 1 2 3 4 5 6 7 8; do echo "tick $i"; sleep 0.5; done; echo done > /hub/output/result.txt', start: true });
    await open(`/sessions/${session.id}`, 'pre.log');
    await page.waitForFunction(() => [...document.querySelectorAll('.log-line')].some((line: any) => line.textContent.startsWith('tick 2')), { timeout: 20_000 });
    const early = await page.$$eval('.log-line', (lines) => lines.map((line) => line.textContent!.trim()));
    expect(early).not.toContain('tick 8');
    expect(await page.$eval('.page-head [data-status]', (badge) => badge.getAttribute('data-status'))).toBe('running');
    await page.screenshot({ path: join(SCREENSHOTS, 'session-log.png'), fullPage: true });
    expect(await seriousViolations()).toEqual([]);

    await page.waitForFunction(() => document.querySelector('.page-head [data-status]')?.getAttribute('data-status') === 'completed', { timeout: 20_000 });
    const lines = await page.$$eval('.log-line', (all) => all.map((line) => line.textContent!.trim()));
    expect(lines.filter((line) => line.startsWith('tick '))).toEqual(['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5', 'tick 6', 'tick 7', 'tick 8']);
    // Once it ended, its output files are listed with their sizes.
    await page.waitForSelector('table.files tbody tr');
    expect(await page.$eval('table.files tbody tr', (row: any) => row.innerText.replace(/\s+/g, ' ').trim())).toMatch(/^result\.txt 5 B [0-9a-f]{12}… Download$/);
  });

  it('cancels a running session from its page, and shows it end cancelled', async () => {
    const session = await hub.api.createSession({ name: 'sleeper', type: 'analysis', prompt: 'echo going to sleep; sleep 60', start: true });
    await open(`/sessions/${session.id}`, '.page-head [data-status]');
    await page.waitForFunction(() => document.querySelector('.page-head [data-status]')?.getAttribute('data-status') === 'running', { timeout: 20_000 });
    const [cancel] = await page.$$('xpath/.//button[normalize-space()="Cancel"]');
    await cancel.click();
    const [confirm] = await page.$$('xpath/.//button[normalize-space()="Yes, cancel"]');
    await confirm.click();
    await page.waitForFunction(() => document.querySelector('.page-head [data-status]')?.getAttribute('data-status') === 'cancelled', { timeout: 20_000 });
    expect(await page.$eval('[data-testid=status-reason]', (line) => line.textContent)).toMatch(/^cancelled/);
    expect((await hub.api.getSession(session.id)).status).toBe('cancelled');
  });

  it('shows the failed node of a failing DAG and the skipped ones, each with its reason', async () => {
    const orchestration = await hub.api.createOrchestration({
      name: 'broken',
      start: true,
      sessions: [
        { name: 'setup', type: 'analysis', prompt: 'echo ok' },
        { name: 'compile', type: 'implementation', prompt: 'echo compiling; echo boom >&2; exit 3', dependsOn: ['setup'] },
        { name: 'test', type: 'testing', prompt: 'echo never', dependsOn: ['compile'] },
        { name: 'ship', type: 'review', prompt: 'echo never', dependsOn: ['test'] },
      ],
    });
    await open(`/orchestrations/${orchestration.id}`, '.dag-node');
    await page.waitForFunction(() => document.querySelectorAll('.dag-node[data-status=skipped]').length === 2, { timeout: 30_000 });
    expect(await nodeStatuses()).toEqual({ setup: 'completed', compile: 'failed', test: 'skipped', ship: 'skipped' });

    const reasons = await page.$$eval('table.sessions tbody tr', (rows) =>
      Object.fromEntries(rows.map((row) => [row.querySelector('.col-session')!.textContent, row.querySelector('.col-reason')!.textContent])),
    );
    expect(reasons['compile']).toMatch(/exited with code 3/);
    expect(reasons['test']).toMatch(/^compile \(.+\) failed/);
    expect(reasons['ship']).toMatch(/^compile \(.+\) failed .*test/);
    // The node says it too, on hover.
    // The root causes come with the orchestration read again after the statuses changed.
    await page.waitForSelector('ul.causes', { timeout: 10_000 });
    await page.hover('.dag-node[data-session=test]');
    expect(await page.$eval('.dag-node[data-session=test] .dag-tip', (tip) => [getComputedStyle(tip).display, tip.textContent])).toEqual([
      'block',
      expect.stringMatching(/^skipped, not started: compile \(.+\) failed/),
    ]);
    expect(await page.$eval('ul.causes', (list) => list.textContent)).toMatch(/compile.*failed.*2 skipped after it/);
    expect(await seriousViolations()).toEqual([]);
  });

  it('lists the sessions with filters kept in the URL, and shows a new one without a reload', async () => {
    await open('/?q=ticker', 'table.sessions tbody tr');
    expect(await page.$eval('#filter-q', (input: any) => input.value)).toBe('ticker');
    expect(await page.$$eval('table.sessions tbody tr .col-session', (cells) => cells.map((cell) => cell.textContent))).toEqual(['ticker']);

    await page.click('#filter-q', { clickCount: 3 });
    await page.keyboard.press('Backspace');
    await page.select('#filter-status', 'skipped');
    await page.click('button[type=submit]');
    await page.waitForFunction(() => window.location.search === '?status=skipped');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('table.sessions tbody tr')];
      return rows.length > 0 && rows.every((row: any) => row.getAttribute('data-status') === 'skipped');
    });
    expect(await page.$$eval('table.sessions tbody tr .col-session', (cells) => cells.map((cell) => cell.textContent).sort())).toEqual(['ship', 'test']);

    await open('/', 'table.sessions tbody tr');
    const created = await hub.api.createSession({ name: 'newcomer', type: 'analysis', prompt: 'echo hello' });
    await page.waitForSelector(`tr[data-session-id="${created.id}"]`, { timeout: 15_000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'sessions-list.png'), fullPage: true });
    expect(await seriousViolations()).toEqual([]);
  });

  it("shows the readiness checks and the runner's slots", async () => {
    await open('/health-page', 'table.checks');
    expect(await page.$eval('.summary', (summary) => summary.textContent)).toMatch(/^Ready: all \d+ checks passed/);
    expect(await page.$eval('.runners', (list) => list.textContent)).toMatch(/of 4 slots in use/);
    expect(await seriousViolations()).toEqual([]);

    await open('/orchestrations', 'tbody tr');
    expect(await page.$$eval('tbody tr td:first-child', (cells) => cells.map((cell) => cell.textContent))).toEqual(expect.arrayContaining(['pipeline', 'broken']));
    expect(await seriousViolations()).toEqual([]);
  });

  it('ran without script errors or anything refused by the page policy', () => {
    expect(problems).toEqual([]);
  });
});
