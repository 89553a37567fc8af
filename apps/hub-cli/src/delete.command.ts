import { Command } from 'commander';
import type { CliContext } from './cli-context';
import { displayName } from './dag-tree';
import { plural } from './format';
import { findTarget } from './target';

/** `hub delete <id>`: an ended session no session depends on, or an orchestration whose every session ended; their outputs go too. */
export function deleteCommand(cli: CliContext): Command {
  return new Command('delete')
    .description('delete an ended session (no session may depend on it) or an ended orchestration, with their outputs, logs and changes')
    .argument('<id>', 'a session id or an orchestration id')
    .action(async (id: string, _options: object, command: Command) => {
      const hub = await cli.connect(command);
      const target = await findTarget(hub, id);
      if (target.kind === 'session') {
        const deleted = await hub.deleteSession(id);
        const orchestration = deleted.orchestrationDeleted ? `, and its orchestration ${deleted.orchestrationId} (it was its last session)` : '';
        cli.terminal.out.write(`deleted: session ${displayName(target.session)} ${deleted.id}${orchestration}\n`);
      } else {
        const deleted = await hub.deleteOrchestration(id);
        cli.terminal.out.write(`deleted: orchestration ${deleted.name} ${deleted.id} with its ${plural(deleted.sessionCount, 'session')}\n`);
      }
    });
}
