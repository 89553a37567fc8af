import { Argument, Command } from 'commander';
import {
  MAX_PAGE_SIZE,
  ORCHESTRATION_STATUSES,
  type OrchestrationPage,
  type OrchestrationStatus,
  SESSION_STATUSES,
  type SessionPage,
  type SessionStatus,
} from '@hub/contracts';
import type { CliContext } from './cli-context';
import { UsageError } from './cli-error';
import { displayName } from './dag-tree';
import { formatAge, sessionDuration } from './format';
import { endedBadly } from './orchestration.renderer';
import { paintOrchestrationStatus, paintStatus, statusLabel } from './status-style';
import { formatTable } from './table';

interface LsOptions {
  status?: string;
  orchestration?: string;
  limit: string;
  json?: boolean;
}

function limitOf(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw new UsageError(`--limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, not '${value}'`);
  return limit;
}

function statusOf<T extends string>(value: string | undefined, statuses: readonly T[]): T | undefined {
  const status = statuses.find((s) => s === value);
  if (value !== undefined && !status) throw new UsageError(`--status must be one of ${statuses.join(', ')}, not '${value}'`);
  return status;
}

function sessionsTable(page: SessionPage, cli: CliContext, now: number): string[] {
  const { colours, columns } = cli.terminal;
  return formatTable(
    ['ID', 'NAME', 'STATUS', 'TYPE', 'DURATION', 'AGE', 'REASON'],
    page.items.map((s) => [
      s.id,
      displayName(s),
      { text: statusLabel(s.status), paint: (t) => paintStatus(colours, s.status, t) },
      s.type,
      sessionDuration(s, now),
      formatAge(s.createdAt, now),
      endedBadly(s) ? (s.statusReason ?? '') : '',
    ]),
    columns() - 1,
  );
}

function orchestrationsTable(page: OrchestrationPage, cli: CliContext, now: number): string[] {
  const { colours, columns } = cli.terminal;
  const counts = (o: OrchestrationPage['items'][number]) =>
    SESSION_STATUSES.filter((s) => o.counts[s] > 0).map((s) => `${o.counts[s]} ${statusLabel(s)}`).join(', ');
  return formatTable(
    ['ID', 'NAME', 'STATUS', 'AGE', 'SESSIONS'],
    page.items.map((o) => [
      o.id,
      o.name,
      { text: o.status, paint: (t) => paintOrchestrationStatus(colours, o.status, t) },
      formatAge(o.createdAt, now),
      `${o.sessionCount}: ${counts(o)}`,
    ]),
    columns() - 1,
  );
}

/** `hub ls [sessions|orchestrations]`: a table (or the API's JSON), newest first. */
export function lsCommand(cli: CliContext): Command {
  return new Command('ls')
    .description('list sessions (or orchestrations), newest first')
    .addArgument(new Argument('[what]', 'what to list').choices(['sessions', 'orchestrations']).default('sessions'))
    .option('--status <status>', 'only those in this status')
    .option('--orchestration <id>', "only this orchestration's sessions")
    .option('--limit <n>', `at most this many (up to ${MAX_PAGE_SIZE})`, '50')
    .option('--json', 'print what the API answered, as JSON')
    .action(async (what: 'sessions' | 'orchestrations', options: LsOptions, command: Command) => {
      const limit = limitOf(options.limit);
      const sessionStatus = what === 'sessions' ? statusOf<SessionStatus>(options.status, SESSION_STATUSES) : undefined;
      const orchestrationStatus = what === 'orchestrations' ? statusOf<OrchestrationStatus>(options.status, ORCHESTRATION_STATUSES) : undefined;
      if (what === 'orchestrations' && options.orchestration) throw new UsageError('--orchestration lists the sessions of one orchestration: hub ls --orchestration <id>');
      const hub = await cli.connect(command);
      const now = Date.now();
      const { page, table } =
        what === 'sessions'
          ? await hub
              .listSessions({ status: sessionStatus && [sessionStatus], orchestrationId: options.orchestration, limit })
              .then((page) => ({ page, table: () => sessionsTable(page, cli, now) }))
          : await hub
              .listOrchestrations({ status: orchestrationStatus && [orchestrationStatus], limit })
              .then((page) => ({ page, table: () => orchestrationsTable(page, cli, now) }));
      const lines = options.json ? [JSON.stringify(page, null, 2)] : table();
      cli.terminal.out.write(`${lines.join('\n')}\n`);
      if (page.nextCursor) cli.terminal.err.write(`(the newest ${limit} are shown${limit < MAX_PAGE_SIZE ? `; --limit ${MAX_PAGE_SIZE} shows more` : ''})\n`);
    });
}
