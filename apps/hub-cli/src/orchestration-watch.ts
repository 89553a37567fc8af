import type { OrchestrationView } from '@hub/contracts';
import type { HubApi, HubEventStream } from '@hub/hub-api';
import { CliError } from './cli-error';
import { orchestrationUpdates, type UpdateOptions } from './orchestration-updates';
import { headerLines, StatusChangeLog, summaryLines, treeLines } from './orchestration.renderer';
import { interruption, type Terminal } from './terminal';

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const ERASE_DOWN = '\x1b[J';
const up = (lines: number) => (lines ? `\x1b[${lines}A\r` : '');

interface WatchDisplay {
  show(view: OrchestrationView): void;
  close(): void;
}

/** On a terminal: the tree, redrawn in place under the cursor (hidden meanwhile), cut to fit the screen. */
class LiveTree implements WatchDisplay {
  private drawn = 0;
  private readonly restoreCursor = () => this.terminal.out.write(SHOW_CURSOR);

  constructor(private readonly terminal: Terminal) {
    terminal.out.write(HIDE_CURSOR);
    process.once('exit', this.restoreCursor);
  }

  show(view: OrchestrationView): void {
    const options = { now: Date.now(), colours: this.terminal.colours, width: this.terminal.columns() - 1 };
    const header = headerLines(view, options);
    let tree = treeLines(view, options);
    const room = Math.max(1, this.terminal.rows() - header.length - 1);
    if (tree.length > room) tree = [...tree.slice(0, room - 1), this.terminal.colours.dim(`… ${tree.length - room + 1} more sessions`)];
    const lines = [...header, ...tree];
    this.terminal.out.write(`${up(this.drawn)}${ERASE_DOWN}${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  close(): void {
    this.restoreCursor();
    process.off('exit', this.restoreCursor);
  }
}

/** Not on a terminal (piped, logged): a plain line per change, nothing redrawn, no colours. */
class ChangeLines implements WatchDisplay {
  private readonly log = new StatusChangeLog();

  constructor(private readonly terminal: Terminal) {}

  show(view: OrchestrationView): void {
    for (const line of this.log.lines(view, new Date())) this.terminal.out.write(`${line}\n`);
  }

  close(): void {}
}

/**
 * Shows the orchestration until it ends (and its result is in, or RESULT_WAIT_SECONDS passed): a
 * live tree on a terminal, plain lines otherwise; then what did not complete and the result.
 * Resolves when it completed; throws a CliError (exit 1) when it failed or was cancelled, and one
 * with exit code 130 on Ctrl-C, which stops the watch and leaves the orchestration running.
 */
export async function watchOrchestration(
  hub: HubApi & HubEventStream,
  orchestrationId: string,
  terminal: Terminal,
  options: Omit<UpdateOptions, 'signal'> = {},
): Promise<OrchestrationView> {
  const interrupted = interruption();
  const display: WatchDisplay = terminal.live ? new LiveTree(terminal) : new ChangeLines(terminal);
  let last: OrchestrationView | null = null;
  try {
    for await (const view of orchestrationUpdates(hub, orchestrationId, { ...options, signal: interrupted.signal })) {
      last = view;
      display.show(view);
    }
  } finally {
    display.close();
    interrupted.release();
  }
  if (!last || interrupted.signal.aborted) {
    if (terminal.live) terminal.out.write('\n'); // below the ^C the terminal echoed
    throw new CliError(`stopped watching; the orchestration goes on (hub cancel ${orchestrationId} stops it)`, 130);
  }
  for (const line of summaryLines(last, terminal.colours)) terminal.out.write(`${line}\n`);
  if (last.status !== 'completed') throw new CliError(`orchestration ${last.name} ${last.status}`);
  return last;
}
