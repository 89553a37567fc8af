import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { createColors } from 'picocolors';
import { InMemoryHubApi } from '@hub/testing';
import type { CliContext } from './cli-context';
import { runHub } from './hub-program';

/** The CLI on an in-memory Hub, its stdout and stderr kept. */
async function run(hub: InMemoryHubApi, ...args: string[]) {
  const out = new PassThrough();
  const err = new PassThrough();
  const context: CliContext = {
    terminal: { out, err, live: false, colours: createColors(false), columns: () => Infinity, rows: () => Infinity },
    connect: async () => Object.assign(hub, { events: async function* () {} }),
  };
  const code = await runHub(['node', 'hub', ...args], context);
  out.end();
  err.end();
  return { code, out: await text(out), err: await text(err) };
}

const spent = (total: number, costUsd: number | null) => ({ tokens: { input: total, output: 0, cacheRead: 0, cacheWrite: 0, total }, costUsd });

describe('hub usage', () => {
  it('shows what each key spent, then the total, since the date given', async () => {
    const hub = new InMemoryHubApi();
    hub.usageByKey.push(
      { key: 'ci-writer', orchestrations: 12, usage: spent(1_234_567, 4.2) },
      { key: null, orchestrations: 1, usage: spent(800, null) },
    );
    const shown = await run(hub, 'usage', '--since', '2026-11-01');
    expect(shown).toEqual({
      code: 0,
      err: '',
      out: [
        'KEY            ORCHESTRATIONS  TOKENS     COST',
        'ci-writer      12              1,234,567  $4.20',
        '(before keys)  1               800        -',
        'total          13              1,235,367  $4.20',
        '',
      ].join('\n'),
    });
    expect(hub.received).toEqual([{ method: 'usageSummary', request: { since: '2026-11-01' } }]);
  });

  it('refuses a --since that is no date or instant as a usage error, asking nothing', async () => {
    const hub = new InMemoryHubApi();
    expect(await run(hub, 'usage', '--since', 'last week')).toMatchObject({
      code: 2,
      err: "hub: --since must be a date (2026-11-01) or an ISO 8601 instant, not 'last week'\n",
    });
    expect(hub.received).toEqual([]);
  });
});
