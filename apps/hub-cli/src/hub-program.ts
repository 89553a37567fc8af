import { Command, CommanderError } from 'commander';
import { cancelCommand } from './cancel.command';
import { changesCommand } from './changes.command';
import { deleteCommand } from './delete.command';
import type { CliContext } from './cli-context';
import { describeFailure } from './cli-error';
import { eventsCommand } from './events.command';
import { getCommand } from './get.command';
import { logsCommand } from './logs.command';
import { lsCommand } from './ls.command';
import { outputCommand } from './output.command';
import { rerunCommand } from './rerun.command';
import { continueCommand } from './continue.command';
import { budgetCommand } from './budget.command';
import { retryCommand } from './retry.command';
import { submitCommand } from './submit.command';
import { watchCommand } from './watch.command';
import { keysCommand } from './keys.command';
import { auditCommand } from './audit.command';
import { usageCommand } from './usage.command';

const USAGE_EXIT_CODE = 2;

/** Every command, with the options they share. */
export function hubProgram(cli: CliContext): Command {
  const program = new Command('hub')
    .description("Hub's command line: submit orchestrations of AI coding-agent sessions, watch them, read what they did")
    .option('--url <url>', 'the gateway (else HUB_URL, else url in .hub/cli.json or ~/.config/hub/cli.json, else http://127.0.0.1:8080)')
    .option('--token <token>', "the gateway's API token (else HUB_API_TOKEN, else the tokenFile named in cli.json)")
    .configureOutput({ writeOut: (text) => cli.terminal.out.write(text), writeErr: (text) => cli.terminal.err.write(text) })
    .showHelpAfterError('(--help says how to call it)')
    .exitOverride();
  const commands = [submitCommand, watchCommand, eventsCommand, lsCommand, getCommand, logsCommand, outputCommand, changesCommand, cancelCommand, deleteCommand, retryCommand, rerunCommand, continueCommand, budgetCommand, usageCommand, keysCommand, auditCommand];
  for (const command of commands) {
    const made = command(cli);
    // Subcommands (hub keys create) too: they fail and print as the program does.
    for (const each of [made, ...made.commands]) each.copyInheritedSettings(program);
    program.addCommand(made);
  }
  return program;
}

/** Runs one command line; answers the exit code: 0, 1 when it failed, 2 when it was called wrongly, 130 on Ctrl-C. */
export async function runHub(argv: string[], cli: CliContext): Promise<number> {
  try {
    await hubProgram(cli).parseAsync(argv);
    return 0;
  } catch (error) {
    // Commander has said what is wrong (or shown the help) already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    const { line, exitCode } = describeFailure(error);
    cli.terminal.err.write(`hub: ${line}\n`);
    return exitCode;
  }
}
