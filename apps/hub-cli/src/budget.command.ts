import { Command, InvalidArgumentError, Option } from 'commander';
import { BUDGET_EXHAUSTION_POLICIES, BudgetSchema, type OrchestrationSummary } from '@hub/contracts';
import type { CliContext } from './cli-context';
import { CliError } from './cli-error';
import { spendingLine } from './orchestration.renderer';

interface BudgetOptions {
  tokens?: number;
  usd?: number;
  onExhausted?: (typeof BUDGET_EXHAUSTION_POLICIES)[number];
  remove?: boolean;
}

/** `hub budget <orchestrationId> [--tokens n] [--usd n] [--on-exhausted finish|stop] [--remove]`: shows or replaces its budget. */
export function budgetCommand(cli: CliContext): Command {
  return new Command('budget')
    .description("show an orchestration's spending and budget, or replace the budget (then `hub retry` runs what it skipped)")
    .argument('<orchestrationId>')
    .option('--tokens <n>', 'at most this many tokens (input, output and cache, all counted)', positiveNumber)
    .option('--usd <n>', 'at most this many dollars, as the agents report their cost', positiveNumber)
    .addOption(new Option('--on-exhausted <policy>', 'when it is spent, running sessions finish or are stopped').choices(BUDGET_EXHAUSTION_POLICIES))
    .option('--remove', 'remove the budget')
    .action(async (orchestrationId: string, options: BudgetOptions, command: Command) => {
      const budget = budgetFrom(options);
      const hub = await cli.connect(command);
      const summary =
        budget === undefined
          ? await hub.getOrchestration(orchestrationId, { limit: 1 })
          : await hub.updateOrchestration(orchestrationId, { budget });
      cli.terminal.out.write(`${describe(summary, cli)}\n`);
    });
}

/** The budget the options ask for: null to remove it, undefined when they ask for none (only show it). */
function budgetFrom(options: BudgetOptions) {
  if (options.remove) {
    if (options.tokens !== undefined || options.usd !== undefined) throw new CliError('--remove takes no --tokens or --usd');
    return null;
  }
  if (options.tokens === undefined && options.usd === undefined) {
    if (options.onExhausted) throw new CliError('--on-exhausted needs --tokens or --usd: a budget names what it caps');
    return undefined;
  }
  const parsed = BudgetSchema.safeParse({ tokens: options.tokens, usd: options.usd, onExhausted: options.onExhausted });
  if (!parsed.success) throw new CliError(`invalid budget: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'budget'} ${issue.message}`).join('; ')}`);
  return parsed.data;
}

function describe(summary: OrchestrationSummary, cli: CliContext): string {
  return `${summary.name} ${summary.id}: ${spendingLine(summary, cli.terminal.colours)}`;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}
