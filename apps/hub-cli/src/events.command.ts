import { once } from 'node:events';
import { Command } from 'commander';
import { EVENT_SUBJECTS, type EventSubject, isEventSubject, type OrchestrationView } from '@hub/contracts';
import type { HubApi, HubEventFilter } from '@hub/hub-api';
import type { CliContext, CliHub } from './cli-context';
import { UsageError } from './cli-error';
import { displayName } from './dag-tree';
import { aboutOf, eventLine } from './event.renderer';
import { formatDuration } from './format';
import { readOrchestration } from './orchestration-updates';
import { interruption, type Terminal } from './terminal';

interface EventsOptions {
  orchestration?: string;
  session?: string;
  type?: string;
  after?: string;
  json?: boolean;
}

/** What `hub events` follows, from where, and how it writes it. */
interface EventFollow {
  filter: HubEventFilter;
  after?: string;
  json?: boolean;
  signal: AbortSignal;
}

function typesOf(value: string | undefined): EventSubject[] | undefined {
  if (value === undefined) return undefined;
  const types = value.split(',').map((type) => type.trim());
  const unknown = types.filter((type) => !isEventSubject(type));
  if (unknown.length) throw new UsageError(`--type: not an event subject: ${unknown.join(', ')} (known: ${EVENT_SUBJECTS.join(', ')})`);
  return types as EventSubject[];
}

function afterOf(value: string | undefined): string | undefined {
  if (value !== undefined && !/^\d{1,15}$/.test(value)) throw new UsageError(`--after must be the id of an event (a whole number), not '${value}'`);
  return value;
}

/** The names events are shown with, each read once: a session's (its id, cut, when it has none) or an orchestration's; the id, cut, when it cannot be read. */
class Names {
  private readonly known = new Map<string, string>();

  constructor(private readonly hub: HubApi) {}

  learn(view: OrchestrationView): void {
    this.known.set(view.id, view.name);
    for (const session of view.sessions) this.known.set(session.id, displayName(session));
  }

  async of({ kind, id }: { kind: 'session' | 'orchestration'; id: string }): Promise<string> {
    let name = this.known.get(id);
    if (name === undefined) {
      const read = kind === 'session' ? this.hub.getSession(id).then(displayName) : this.hub.getOrchestration(id, { limit: 1 }).then((view) => view.name);
      name = await read.catch(() => id.slice(0, 8));
      this.known.set(id, name);
    }
    return name;
  }
}

/**
 * Writes Hub's events to stdout as they come, a line each (with `json`, the event's JSON as the
 * gateway sent it), until `signal` aborts; a dropped connection is said on stderr and made again
 * after the last event written. Answers that event's id.
 */
async function printEvents(hub: CliHub, follow: EventFollow, terminal: Terminal): Promise<string | undefined> {
  const { out, err, colours } = terminal;
  const names = new Names(hub);
  if (!follow.json && follow.filter.orchestrationId) names.learn(await readOrchestration(hub, follow.filter.orchestrationId));
  let last = follow.after;
  const events = hub.events(follow.filter, {
    after: follow.after,
    signal: follow.signal,
    onReconnect: ({ error, after, delayMs }) =>
      err.write(`hub: ${error.message}; connecting again in ${formatDuration(delayMs)}, after event ${after ?? '(none yet)'}\n`),
  });
  for await (const { id, event, json } of events) {
    const line = follow.json ? json : eventLine(event, await names.of(aboutOf(event)), colours);
    if (!out.write(`${line}\n`)) await once(out, 'drain');
    last = id;
  }
  return last;
}

/** `hub events [--orchestration id] [--session id] [--type a,b] [--after id] [--json]`: Hub's events, live, until Ctrl-C. */
export function eventsCommand(cli: CliContext): Command {
  return new Command('events')
    .description("print Hub's events as they happen, a line each, until Ctrl-C (a dropped connection is made again, missing none)")
    .option('--orchestration <id>', "only this orchestration's (and its sessions') events, from its creation")
    .option('--session <id>', "only this session's events, from its creation")
    .option('--type <subjects>', `only these subjects, comma-separated: ${EVENT_SUBJECTS.join(', ')}`)
    .option('--after <id>', 'start after this event (Ctrl-C says the last one printed)')
    .option('--json', 'print each event as the gateway sent it: its JSON envelope, a line each')
    .action(async (options: EventsOptions, command: Command) => {
      const filter: HubEventFilter = { orchestrationId: options.orchestration, sessionId: options.session, types: typesOf(options.type) };
      const after = afterOf(options.after);
      const hub = await cli.connect(command);
      const interrupted = interruption();
      let last: string | undefined;
      try {
        last = await printEvents(hub, { filter, after, json: options.json, signal: interrupted.signal }, cli.terminal);
      } finally {
        interrupted.release();
      }
      // Below the ^C the terminal echoed.
      const below = cli.terminal.live ? '\n' : '';
      if (last) cli.terminal.err.write(`${below}stopped after event ${last} (--after ${last} goes on from there)\n`);
      else cli.terminal.err.write(below);
    });
}
