import { Command } from 'commander';
import type { CliContext } from './cli-context';
import { reRun } from './re-runs';

/** `hub retry <orchestrationId> [--watch]`: runs an ended orchestration again where it did not complete. */
export function retryCommand(cli: CliContext): Command {
  return new Command('retry')
    .description('run an ended orchestration again where it did not complete (its failed, timed-out, cancelled and skipped sessions)')
    .argument('<orchestrationId>')
    .option('-w, --watch', 'then show it as a live tree until it ends; exit 0 only if it completed')
    .action(async (orchestrationId: string, options: { watch?: boolean }, command: Command) => {
      const hub = await cli.connect(command);
      const request = async () => {
        const retried = await hub.retryOrchestration(orchestrationId);
        return `retried orchestration ${retried.name} ${retried.id}`;
      };
      await reRun(cli, hub, { orchestrationId, request, watch: options.watch });
    });
}
