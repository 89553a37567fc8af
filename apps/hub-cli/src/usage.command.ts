import { Command } from 'commander';
import { type UsageSummary, UsageSummaryQuerySchema } from '@hub/contracts';
import type { CliContext } from './cli-context';
import { UsageError } from './cli-error';
import { plural } from './format';
import { formatTable } from './table';

interface UsageOptions {
  since?: string;
  json?: boolean;
}

type Spent = UsageSummary['total'];

/** `hub usage [--since 2026-11-01]`: what the key's tenant spent, per API key that created its orchestrations, then the total. */
export function usageCommand(cli: CliContext): Command {
  return new Command('usage')
    .description("what your tenant's orchestrations spent (tokens, dollars), per API key that created them, and in total")
    .option('--since <when>', 'only orchestrations created since then (a date, 2026-11-01, or an ISO 8601 instant)')
    .option('--json', 'print what the API answered, as JSON')
    .action(async (options: UsageOptions, command: Command) => {
      const query = UsageSummaryQuerySchema.safeParse({ since: options.since });
      if (!query.success) throw new UsageError(`--since must be a date (2026-11-01) or an ISO 8601 instant, not '${options.since}'`);
      const hub = await cli.connect(command);
      const summary = await hub.usageSummary(query.data);
      const lines = options.json ? [JSON.stringify(summary, null, 2)] : usageTable(summary);
      cli.terminal.out.write(`${lines.join('\n')}\n`);
    });
}

function usageTable(summary: UsageSummary): string[] {
  const row = (key: string, orchestrations: number, usage: Spent) => [key, String(orchestrations), tokens(usage), cost(usage)];
  const rows = summary.byKey.map((entry) => row(entry.key ?? '(before keys)', entry.orchestrations, entry.usage));
  if (summary.others) rows.push(row(`(${plural(summary.others.keys, 'other key')})`, summary.others.orchestrations, summary.others.usage));
  rows.push(row('total', summary.orchestrations, summary.total));
  return formatTable(['KEY', 'ORCHESTRATIONS', 'TOKENS', 'COST'], rows);
}

const tokens = (usage: Spent) => usage.tokens.total.toLocaleString('en-US');
/** Dollars when an agent reported them; `-` when none did (subscription users: tokens are what counts). */
const cost = (usage: Spent) => (usage.costUsd === null ? '-' : `$${usage.costUsd.toFixed(2)}`);
