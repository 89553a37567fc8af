import { createInterface } from 'node:readline';
import { Command } from 'commander';
import type { HubApi, HubFile } from '@hub/hub-api';
import type { CliContext } from './cli-context';
import { isNotFound } from './cli-error';
import type { Colors } from './terminal';
import { copyTo } from './terminal';

/** A session's diff, or else (no session has this id) an orchestration's combined one. */
async function changesOf(hub: HubApi, id: string): Promise<HubFile> {
  try {
    await hub.getSession(id);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return hub.orchestrationChanges(id);
  }
  return hub.sessionChanges(id);
}

function paintDiffLine(line: string, colours: Colors): string {
  if (/^(diff --git|index |\+\+\+ |--- )/.test(line)) return colours.bold(line);
  if (line.startsWith('@@')) return colours.cyan(line);
  if (line.startsWith('+')) return colours.green(line);
  if (line.startsWith('-')) return colours.red(line);
  return line;
}

/** `hub changes <id>`: the unified diff of what a session changed, or of an orchestration's combined change. */
export function changesCommand(cli: CliContext): Command {
  return new Command('changes')
    .description("print the diff of a session's changes, or of an orchestration's combined change")
    .argument('<id>', 'a session id or an orchestration id')
    .action(async (id: string, _options: object, command: Command) => {
      const diff = await changesOf(await cli.connect(command), id);
      const { out, colours } = cli.terminal;
      if (!colours.isColorSupported) return copyTo(out, diff.content);
      for await (const line of createInterface({ input: diff.content, crlfDelay: Infinity })) out.write(`${paintDiffLine(line, colours)}\n`);
    });
}
