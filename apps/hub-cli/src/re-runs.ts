import { isTerminal, type OrchestrationView, type SessionView } from '@hub/contracts';
import type { CliContext, CliHub } from './cli-context';
import { displayName } from './dag-tree';
import { plural } from './format';
import { readOrchestration } from './orchestration-updates';
import { watchOrchestration } from './orchestration-watch';
import { endedBadly } from './orchestration.renderer';
import { paintStatus, statusLabel, statusSymbol } from './status-style';
import type { Colors } from './terminal';

const LISTED = 20;

/** The sessions that had ended in `before` and run again in `after` (on their way, or ended anew already), as they were before. */
function runningAgain(before: OrchestrationView, after: OrchestrationView): SessionView[] {
  const now = new Map(after.sessions.map((session) => [session.id, session]));
  return before.sessions.filter((was) => {
    const again = now.get(was.id);
    return again && isTerminal(was.status) && (!isTerminal(again.status) || again.finishedAt !== was.finishedAt);
  });
}

/** `<what>: 2 sessions run again`, then each (at most LISTED) with how it had ended: `  ✖ impl-a (failed: exited with code 3)`. */
export function runningAgainLines(what: string, before: OrchestrationView, after: OrchestrationView, colours: Colors): string[] {
  const again = runningAgain(before, after);
  const lines = again.slice(0, LISTED).map((was) => {
    const ended = `${statusLabel(was.status)}${endedBadly(was) && was.statusReason ? `: ${was.statusReason}` : ''}`;
    return `  ${paintStatus(colours, was.status, statusSymbol(was.status))} ${displayName(was)} ${colours.dim(`(${ended})`)}`;
  });
  if (again.length > LISTED) lines.push(`  … and ${again.length - LISTED} more`);
  return [`${what}: ${plural(again.length, 'session')} run${again.length === 1 ? 's' : ''} again`, ...lines];
}

export interface ReRun {
  /** The orchestration the re-run happens in. */
  orchestrationId: string;
  /** Asks for it; answers what to call it. */
  request: () => Promise<string>;
  /** Then watch the orchestration to its end. */
  watch?: boolean;
}

/**
 * Asks for a re-run, then says which sessions run again, as the orchestration read before and after
 * shows; with `watch`, then watches the orchestration to its end (a CliError unless it completed).
 */
export async function reRun(cli: CliContext, hub: CliHub, { orchestrationId, request, watch }: ReRun): Promise<void> {
  const before = await readOrchestration(hub, orchestrationId);
  const what = await request();
  const after = await readOrchestration(hub, orchestrationId);
  const { out, colours } = cli.terminal;
  for (const line of runningAgainLines(what, before, after, colours)) out.write(`${line}\n`);
  if (watch) await watchOrchestration(hub, orchestrationId, cli.terminal);
  else out.write(`follow it: hub watch ${orchestrationId}\n`);
}
