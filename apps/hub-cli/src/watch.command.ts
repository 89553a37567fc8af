import { Command } from 'commander';
import type { CliContext } from './cli-context';
import { watchOrchestration } from './orchestration-watch';

/** `hub watch <orchestrationId>`: what `submit --watch` shows, for an orchestration already submitted. */
export function watchCommand(cli: CliContext): Command {
  return new Command('watch')
    .description("show an orchestration's sessions as a live tree until it ends; exit 0 only if it completed")
    .argument('<orchestrationId>')
    .action(async (orchestrationId: string, _options: object, command: Command) => {
      await watchOrchestration(await cli.connect(command), orchestrationId, cli.terminal);
    });
}
