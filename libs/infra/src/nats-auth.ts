import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { BUS_PRINCIPALS, busInboxPrefix, busPermissions, type BusPrincipal } from '@hub/contracts';

/** One NATS user of nats-server's `authorization { users }`. */
export interface NatsUser {
  user: string;
  password: string;
  permissions: { publish: string[]; subscribe: string[]; allowResponses?: boolean };
}

/** What a client passes to `connect()` to be one principal. */
export interface NatsCredentials {
  user: string;
  pass: string;
  /** Its reply subjects' prefix: it may subscribe to no other inbox. */
  inboxPrefix?: string;
}

/**
 * A user that may do anything, for tests and diagnostics that watch the whole bus; only when
 * asked (startHubStack's `natsObserver`), never in `npm run hub`.
 */
export const NATS_OBSERVER = 'hub-observer';

export const natsCredentialsFile = (stateDir: string) => join(stateDir, 'nats-credentials.json');

/** `HUB_NATS_PASSWORD_CONTAINER_RUNNER`: the operator's password for a principal, instead of a generated one. */
export const natsPasswordVariable = (principal: string) => `HUB_NATS_PASSWORD_${principal.toUpperCase().replace(/-/g, '_')}`;

/**
 * Each principal's password: the operator's (HUB_NATS_PASSWORD_<PRINCIPAL>) or generated on first
 * start and kept in <stateDir>/nats-credentials.json (0600), so a restarted stack reuses them.
 */
export async function loadNatsPasswords(
  stateDir: string,
  principals: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, string>> {
  const file = natsCredentialsFile(stateDir);
  let stored: Record<string, string> = {};
  try {
    stored = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, string>;
  } catch {
    // first start
  }
  const passwords: Record<string, string> = {};
  let changed = false;
  for (const principal of principals) {
    const given = env[natsPasswordVariable(principal)];
    passwords[principal] = given || stored[principal] || randomBytes(24).toString('base64url');
    if (!given && passwords[principal] !== stored[principal]) changed = true;
  }
  if (changed) {
    await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
    const kept = Object.fromEntries(principals.filter((p) => !env[natsPasswordVariable(p)]).map((p) => [p, passwords[p]]));
    await fs.writeFile(file, JSON.stringify({ ...stored, ...kept }, null, 2) + '\n', { mode: 0o600 });
  }
  await fs.chmod(file, 0o600).catch(() => undefined);
  return passwords;
}

/** The users nats-server knows: every principal with the permissions the contracts give it (and the observer, when asked). */
export function hubNatsUsers(passwords: Record<string, string>, options: { observer?: boolean } = {}): NatsUser[] {
  const users: NatsUser[] = BUS_PRINCIPALS.map((principal) => {
    const permissions = busPermissions(principal);
    return { user: principal, password: passwords[principal]!, permissions };
  });
  if (options.observer) {
    users.push({ user: NATS_OBSERVER, password: passwords[NATS_OBSERVER]!, permissions: { publish: ['>'], subscribe: ['>'] } });
  }
  return users;
}

/** The credentials a client connects with as `principal`. */
export function natsCredentialsOf(principal: BusPrincipal | typeof NATS_OBSERVER, passwords: Record<string, string>): NatsCredentials {
  const pass = passwords[principal];
  if (!pass) throw new Error(`no NATS password for ${principal}`);
  return principal === NATS_OBSERVER ? { user: principal, pass } : { user: principal, pass, inboxPrefix: busInboxPrefix(principal) };
}

/** nats-server's `authorization` block: only these users may connect (no anonymous connection). */
export function renderNatsAuthorization(users: NatsUser[]): string {
  const list = (subjects: string[]) => `[${subjects.map((s) => JSON.stringify(s)).join(', ')}]`;
  const entries = users.map(({ user, password, permissions }) =>
    [
      '    {',
      `      user: ${JSON.stringify(user)}`,
      `      password: ${JSON.stringify(password)}`,
      '      permissions: {',
      `        publish: { allow: ${list(permissions.publish)} }`,
      `        subscribe: { allow: ${list(permissions.subscribe)} }`,
      ...(permissions.allowResponses ? ['        allow_responses: true'] : []),
      '      }',
      '    }',
    ].join('\n'),
  );
  return `authorization {\n  users: [\n${entries.join('\n')}\n  ]\n}\n`;
}
