import { Command } from 'commander';
import type { CliContext } from './cli-context';
import { displayName } from './dag-tree';
import { findTarget } from './target';

/** `hub cancel <id>`: a session, or a whole orchestration. */
export function cancelCommand(cli: CliContext): Command {
  return new Command('cancel')
    .description('cancel a session, or every session of an orchestration (running containers are stopped)')
    .argument('<id>', 'a session id or an orchestration id')
    .action(async (id: string, _options: object, command: Command) => {
      const hub = await cli.connect(command);
      const target = await findTarget(hub, id);
      if (target.kind === 'session') {
        const session = await hub.cancelSession(id);
        cli.terminal.out.write(`cancel requested: session ${displayName(session)} ${session.id} (${session.status})\n`);
      } else {
        const orchestration = await hub.cancelOrchestration(id);
        cli.terminal.out.write(`cancel requested: orchestration ${orchestration.name} ${orchestration.id} (${orchestration.status})\n`);
      }
    });
}
