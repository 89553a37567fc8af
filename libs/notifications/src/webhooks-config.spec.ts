import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOTIFICATION_KINDS } from '@hub/contracts';
import { loadWebhooks, parseWebhooks } from './webhooks-config';

const SECRET = 'correct-horse-battery-staple';
const hook = (fields: Record<string, unknown> = {}) => ({ name: 'ci', url: 'https://hooks.example.com/hub', secret: SECRET, ...fields });
const parse = (value: unknown) => parseWebhooks(JSON.stringify(value), 'HUB_WEBHOOKS');

describe('the webhooks configuration', () => {
  it('takes a list of webhooks; events default to every kind, format to hub', () => {
    expect(parse([hook(), hook({ name: 'chat', url: 'http://127.0.0.1:9000/x', events: ['session.failed', 'session.failed'], format: 'slack' })])).toEqual([
      { name: 'ci', url: 'https://hooks.example.com/hub', secret: SECRET, events: [...NOTIFICATION_KINDS], format: 'hub' },
      { name: 'chat', url: 'http://127.0.0.1:9000/x', secret: SECRET, events: ['session.failed'], format: 'slack' },
    ]);
    expect(loadWebhooks({})).toEqual({ webhooks: [], warnings: [] });
  });

  it.each([
    ['a URL of another scheme', hook({ url: 'ftp://hooks.example.com/x' }), 'webhook 1 ("ci").url: must be an http:// or https:// URL'],
    ['a URL that is no URL', hook({ url: 'hooks.example.com' }), 'webhook 1 ("ci").url: must be an http:// or https:// URL'],
    ['a secret under 16 characters', hook({ secret: 'short-secret' }), 'webhook 1 ("ci").secret: must be at least 16 characters'],
    ['an unknown kind', hook({ events: ['session.exploded'] }), 'webhook 1 ("ci").events.0: must be one of session.completed'],
    ['an unknown format', hook({ format: 'teams' }), 'webhook 1 ("ci").format: must be one of hub, slack'],
    ['an unknown field', hook({ event: ['session.failed'] }), 'webhook 1 ("ci").event: is not a known field'],
    ['no url', { name: 'ci', secret: SECRET }, 'webhook 1 ("ci").url: is required'],
  ])('refuses %s, naming the webhook and the field', (_what, webhook, problem) => {
    expect(() => parse([webhook])).toThrow(`HUB_WEBHOOKS is not valid: ${problem}`);
  });

  it('refuses two webhooks of one name, and anything but a list', () => {
    expect(() => parse([hook(), hook()])).toThrow('webhook 2 ("ci").name: "ci" names another webhook too');
    expect(() => parse(hook())).toThrow('HUB_WEBHOOKS is not valid: the list: must be an array');
  });

  it('never quotes a secret, even from JSON it cannot read', () => {
    const broken = `[{"name":"ci","url":"https://x.example","secret":"${SECRET}" "format":"hub"}]`;
    expect(() => parseWebhooks(broken, 'HUB_WEBHOOKS')).toThrow(/^HUB_WEBHOOKS is not valid JSON \(at character \d+\)$/);
    for (const bad of [broken, JSON.stringify([hook({ url: 'ftp://x' })]), JSON.stringify([hook({ secret: 42 })])]) {
      try {
        parseWebhooks(bad, 'HUB_WEBHOOKS');
      } catch (error) {
        expect((error as Error).message).not.toContain(SECRET.slice(0, 8));
      }
    }
  });

  describe('from a file', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'hub-webhooks-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reads it, and warns when others may read it', () => {
      const file = join(dir, 'webhooks.json');
      writeFileSync(file, JSON.stringify([hook()]), { mode: 0o600 });
      expect(loadWebhooks({ HUB_WEBHOOKS_FILE: file })).toEqual({ webhooks: [expect.objectContaining({ name: 'ci' })], warnings: [] });
      chmodSync(file, 0o644);
      expect(loadWebhooks({ HUB_WEBHOOKS_FILE: file }).warnings).toEqual([
        `HUB_WEBHOOKS_FILE=${file} may be read by others (mode 0644); it holds the webhooks' secrets: chmod 600 it`,
      ]);
    });

    it('refuses a missing file, and both variables at once', () => {
      expect(() => loadWebhooks({ HUB_WEBHOOKS_FILE: join(dir, 'none.json') })).toThrow(`HUB_WEBHOOKS_FILE=${join(dir, 'none.json')} cannot be read: ENOENT`);
      expect(() => loadWebhooks({ HUB_WEBHOOKS: '[]', HUB_WEBHOOKS_FILE: join(dir, 'none.json') })).toThrow('both set');
    });
  });
});
