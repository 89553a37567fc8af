import { Command } from 'commander';
import type { CliContext } from './cli-context';
import { displayName } from './dag-tree';
import { watchOrchestration } from './orchestration-watch';

/** `hub continue <sessionId> <prompt...> [--watch]`: a follow-up to a completed session, in the same conversation. */
export function continueCommand(cli: CliContext): Command {
  return new Command('continue')
    .description("ask a completed session a follow-up: a new session that resumes its agent's conversation on top of its changes")
    .argument('<sessionId>')
    .argument('<prompt...>', 'what to ask next (the words are joined with spaces)')
    .option('-w, --watch', 'then show its orchestration as a live tree until it ends; exit 0 only if it completed')
    .action(async (sessionId: string, words: string[], options: { watch?: boolean }, command: Command) => {
      const hub = await cli.connect(command);
      const next = await hub.continueSession(sessionId, { prompt: words.join(' '), start: true });
      const { out } = cli.terminal;
      out.write(`continued session ${sessionId} as ${displayName(next)} ${next.id} (${next.status})\n`);
      if (options.watch) await watchOrchestration(hub, next.orchestrationId, cli.terminal);
      else out.write(`follow it: hub logs -f ${next.id}\n`);
    });
}
