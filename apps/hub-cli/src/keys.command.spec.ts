import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { createColors } from 'picocolors';
import { API_KEY_TOKEN_PATTERN } from '@hub/contracts';
import { InMemoryHubApi } from '@hub/testing';
import type { CliContext } from './cli-context';
import { runHub } from './hub-program';

/** The CLI on an in-memory Hub, its stdout and stderr kept. */
async function run(hub: InMemoryHubApi, ...args: string[]) {
  const out = new PassThrough();
  const err = new PassThrough();
  const context: CliContext = {
    terminal: { out, err, live: false, colours: createColors(false), columns: () => Infinity, rows: () => Infinity },
    connect: async () => Object.assign(hub, { events: async function* () {} }),
  };
  const code = await runHub(['node', 'hub', ...args], context);
  out.end();
  err.end();
  return { code, out: await text(out), err: await text(err) };
}

describe('hub keys and hub audit', () => {
  it('creates a key, printing its token alone on stdout and saying on stderr that it is shown once', async () => {
    const hub = new InMemoryHubApi();
    const created = await run(hub, 'keys', 'create', 'ci-reader', '--scope', 'read', '--tenant', 'team-a');
    expect(created.code).toBe(0);
    expect(created.out.trim()).toMatch(API_KEY_TOKEN_PATTERN);
    expect(created.err).toMatch(/^created API key ci-reader [0-9a-f-]{36} \(read, tenant team-a\); the token above is shown this once/);
    expect(hub.received).toEqual([{ method: 'createApiKey', request: { name: 'ci-reader', scope: 'read', tenant: 'team-a' } }]);
  });

  it('refuses a create without a scope, or with one that is none, as a usage error', async () => {
    expect(await run(new InMemoryHubApi(), 'keys', 'create', 'x')).toMatchObject({ code: 2, err: expect.stringContaining("required option '--scope <scope>' not specified") });
    expect(await run(new InMemoryHubApi(), 'keys', 'create', 'x', '--scope', 'root')).toMatchObject({ code: 2, err: expect.stringContaining('Allowed choices are read, write, admin') });
  });

  it('lists keys as a table, and revokes one', async () => {
    const hub = new InMemoryHubApi();
    const key = await hub.createApiKey({ name: 'ci-writer', scope: 'write' });
    const revoked = await run(hub, 'keys', 'revoke', key.id);
    expect(revoked).toEqual({ code: 0, out: `revoked API key ci-writer ${key.id}\n`, err: '' });
    const listed = await run(hub, 'keys', 'ls');
    expect(listed.out.split('\n')).toEqual([
      expect.stringMatching(/^ID +NAME +SCOPE +TENANT +CREATED +BY +LAST USED +REVOKED$/),
      expect.stringMatching(new RegExp(`^${key.id}  ci-writer +write +default +0s +bootstrap +0s$`)),
      '',
    ]);
  });

  it('shows the audit log, newest first, filtered as asked', async () => {
    const hub = new InMemoryHubApi();
    const at = new Date().toISOString();
    hub.auditEntries.push(
      { id: '1', at, key: 'ci-writer', tenant: 'default', action: 'sessions.create', targetType: 'session', targetId: 's1', detail: { start: true } },
      { id: '2', at, key: 'ci-writer', tenant: 'default', action: 'sessions.cancel', targetType: 'session', targetId: 's1', detail: null },
    );
    const shown = await run(hub, 'audit', '--key', 'ci-writer');
    expect(shown.out.split('\n')).toEqual([
      expect.stringMatching(/^AGE +KEY +TENANT +ACTION +TARGET +DETAIL$/),
      expect.stringMatching(/^0s +ci-writer +default +sessions\.cancel +session s1$/),
      expect.stringMatching(/^0s +ci-writer +default +sessions\.create +session s1 +\{"start":true\}$/),
      '',
    ]);
    expect(hub.received.at(-1)).toEqual({ method: 'listAudit', request: { key: 'ci-writer', limit: 50 } });
  });
});
