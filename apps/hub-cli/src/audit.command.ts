import { Command } from 'commander';
import { type AuditEntry, MAX_PAGE_SIZE } from '@hub/contracts';
import type { CliContext } from './cli-context';
import { UsageError } from './cli-error';
import { formatAge } from './format';
import { formatTable } from './table';

interface AuditOptions {
  tenant?: string;
  key?: string;
  action?: string;
  limit: string;
  json?: boolean;
}

/** `hub audit`: the audit log of writes, newest first (an admin key reads it). */
export function auditCommand(cli: CliContext): Command {
  return new Command('audit')
    .description('who (key name) created, started, cancelled, re-ran or changed what, and the keys made and revoked; newest first')
    .option('--tenant <tenant>', "only this tenant's")
    .option('--key <name>', "only this key's")
    .option('--action <action>', 'only this action (sessions.create, orchestrations.cancel, keys.revoke, …)')
    .option('--limit <n>', `at most this many (up to ${MAX_PAGE_SIZE})`, '50')
    .option('--json', 'print what the API answered, as JSON')
    .action(async (options: AuditOptions, command: Command) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw new UsageError(`--limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, not '${options.limit}'`);
      const hub = await cli.connect(command);
      const page = await hub.listAudit({ tenant: options.tenant, key: options.key, action: options.action, limit });
      const lines = options.json ? [JSON.stringify(page, null, 2)] : auditTable(page.items, cli, Date.now());
      cli.terminal.out.write(`${lines.join('\n')}\n`);
      if (page.nextCursor) cli.terminal.err.write(`(the newest ${limit} are shown${limit < MAX_PAGE_SIZE ? `; --limit ${MAX_PAGE_SIZE} shows more` : ''})\n`);
    });
}

function auditTable(entries: AuditEntry[], cli: CliContext, now: number): string[] {
  return formatTable(
    ['AGE', 'KEY', 'TENANT', 'ACTION', 'TARGET', 'DETAIL'],
    entries.map((entry) => [
      formatAge(entry.at, now),
      entry.key,
      entry.tenant,
      entry.action,
      entry.targetId ? `${entry.targetType} ${entry.targetId}` : '',
      entry.detail ? JSON.stringify(entry.detail) : '',
    ]),
    cli.terminal.columns() - 1,
  );
}
