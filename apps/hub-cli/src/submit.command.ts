import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { Command } from 'commander';
import type { CliContext } from './cli-context';
import { CliError } from './cli-error';
import { watchOrchestration } from './orchestration-watch';
import { plural } from './format';
import { parseSubmission } from './submission';

async function readSubmission(file: string): Promise<string> {
  if (file === '-') return text(process.stdin);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** `hub submit <file> [--watch]`: creates what the file describes, started, and optionally watches it to its end. */
export function submitCommand(cli: CliContext): Command {
  return new Command('submit')
    .description('create and start an orchestration (or one session) described in a YAML or JSON file')
    .argument('<file>', "the body of POST /api/v1/orchestrations (or, with prompt and no sessions, of POST /api/v1/sessions); '-' reads stdin")
    .option('-w, --watch', 'show its sessions as a live tree until it ends; exit 0 only if it completed')
    .action(async (file: string, options: { watch?: boolean }, command: Command) => {
      const submission = parseSubmission(await readSubmission(file), file);
      const hub = await cli.connect(command);
      const { out } = cli.terminal;
      let orchestrationId: string;
      if (submission.kind === 'orchestration') {
        const view = await hub.createOrchestration(submission.request);
        orchestrationId = view.id;
        out.write(`orchestration ${view.name} ${view.id}: ${plural(view.sessionCount, 'session')}, ${submission.request.start ? 'started' : 'not started'}\n`);
      } else {
        const session = await hub.createSession(submission.request);
        orchestrationId = session.orchestrationId;
        out.write(`session ${session.id} (orchestration ${orchestrationId}): ${session.status}\n`);
      }
      if (options.watch) await watchOrchestration(hub, orchestrationId, cli.terminal);
      else out.write(`follow it: hub watch ${orchestrationId}\n`);
    });
}
