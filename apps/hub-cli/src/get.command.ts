import { Command } from 'commander';
import type { CliContext } from './cli-context';
import { headerLines, summaryLines, treeLines } from './orchestration.renderer';
import { sessionLines } from './session.renderer';
import { findTarget } from './target';

/** `hub get <id>`: a session, or an orchestration drawn as its tree. */
export function getCommand(cli: CliContext): Command {
  return new Command('get')
    .description('show a session, or an orchestration with its sessions as a tree')
    .argument('<id>', 'a session id or an orchestration id')
    .option('--json', 'print what the API answered, as JSON')
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const { out, colours, columns } = cli.terminal;
      const target = await findTarget(await cli.connect(command), id);
      const found = target.kind === 'session' ? target.session : target.orchestration;
      if (options.json) {
        out.write(`${JSON.stringify(found, null, 2)}\n`);
        return;
      }
      const now = Date.now();
      const lines =
        target.kind === 'session'
          ? sessionLines(target.session, colours, now)
          : [
              ...headerLines(target.orchestration, { now, colours, width: columns() - 1 }),
              ...treeLines(target.orchestration, { now, colours, width: columns() - 1 }),
              ...summaryLines(target.orchestration, colours),
            ];
      out.write(`${lines.join('\n')}\n`);
    });
}
