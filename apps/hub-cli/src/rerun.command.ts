import { Command } from 'commander';
import type { CliContext } from './cli-context';
import { displayName } from './dag-tree';
import { reRun } from './re-runs';

/** `hub rerun <sessionId> [--watch]`: runs an ended session again, with its dependents that did not complete. */
export function rerunCommand(cli: CliContext): Command {
  return new Command('rerun')
    .description('run an ended session again (however it ended), with its dependents that did not complete')
    .argument('<sessionId>')
    .option('-w, --watch', 'then show its orchestration as a live tree until it ends; exit 0 only if it completed')
    .action(async (sessionId: string, options: { watch?: boolean }, command: Command) => {
      const hub = await cli.connect(command);
      const { orchestrationId } = await hub.getSession(sessionId);
      const request = async () => {
        const session = await hub.rerunSession(sessionId);
        return `re-ran session ${displayName(session)} ${session.id}`;
      };
      await reRun(cli, hub, { orchestrationId, request, watch: options.watch });
    });
}
