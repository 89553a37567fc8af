import { Command, Option } from 'commander';
import { API_KEY_SCOPES, type ApiKey, MAX_PAGE_SIZE, type Scope } from '@hub/contracts';
import type { CliContext } from './cli-context';
import { formatAge } from './format';
import { formatTable } from './table';

/** `hub keys create|ls|revoke`: API keys, for an admin key. */
export function keysCommand(cli: CliContext): Command {
  const keys = new Command('keys').description('API keys (an admin key manages them): create one, list them, revoke one');

  keys
    .command('create')
    .description('create an API key; its token is printed this once (Hub keeps only a hash of it)')
    .argument('<name>', 'what the key list and the audit log call it')
    .addOption(new Option('--scope <scope>', 'what it may do: read, read and write, or everything (keys, the audit log)').choices(API_KEY_SCOPES).makeOptionMandatory())
    .option('--tenant <tenant>', "its tenant (default: the creating key's)")
    .action(async (name: string, options: { scope: Scope; tenant?: string }, command: Command) => {
      const hub = await cli.connect(command);
      const key = await hub.createApiKey({ name, scope: options.scope, tenant: options.tenant });
      cli.terminal.out.write(`${key.token}\n`);
      cli.terminal.err.write(`created API key ${key.name} ${key.id} (${key.scope}, tenant ${key.tenant}); the token above is shown this once: keep it now\n`);
    });

  keys
    .command('ls')
    .description('list API keys, newest first, revoked ones too')
    .option('--tenant <tenant>', "only this tenant's")
    .option('--json', 'print what the API answered, as JSON')
    .action(async (options: { tenant?: string; json?: boolean }, command: Command) => {
      const hub = await cli.connect(command);
      const page = await hub.listApiKeys({ tenant: options.tenant, limit: MAX_PAGE_SIZE });
      const lines = options.json ? [JSON.stringify(page, null, 2)] : keysTable(page.items, cli, Date.now());
      cli.terminal.out.write(`${lines.join('\n')}\n`);
      if (page.nextCursor) cli.terminal.err.write(`(the newest ${MAX_PAGE_SIZE} are shown)\n`);
    });

  keys
    .command('revoke')
    .description('revoke an API key: its next request is refused')
    .argument('<id>')
    .action(async (id: string, _options: unknown, command: Command) => {
      const hub = await cli.connect(command);
      const key = await hub.revokeApiKey(id);
      cli.terminal.out.write(`revoked API key ${key.name} ${key.id}\n`);
    });

  return keys;
}

function keysTable(keys: ApiKey[], cli: CliContext, now: number): string[] {
  return formatTable(
    ['ID', 'NAME', 'SCOPE', 'TENANT', 'CREATED', 'BY', 'LAST USED', 'REVOKED'],
    keys.map((key) => [
      key.id,
      key.name,
      key.scope,
      key.tenant,
      formatAge(key.createdAt, now),
      key.createdBy,
      key.lastUsedAt ? formatAge(key.lastUsedAt, now) : '',
      key.revokedAt ? formatAge(key.revokedAt, now) : '',
    ]),
    cli.terminal.columns() - 1,
  );
}
