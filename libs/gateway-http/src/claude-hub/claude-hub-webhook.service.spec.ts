import pino from 'pino';
import { InMemoryHubApi } from '@hub/testing';
import { ClaudeHubWebhook } from './claude-hub-webhook.service';

describe("claude-hub's requests within a key's scope", () => {
  const webhook = (hub: InMemoryHubApi) => new ClaudeHubWebhook(hub, pino({ level: 'silent' }));
  const create = { type: 'session.create', session: { type: 'analysis', project: { repository: 'acme/app', requirements: 'do it' } } };

  it('refuses a creating request to a read key with 403, in its envelope, and creates nothing', async () => {
    const hub = new InMemoryHubApi();
    const answer = await webhook(hub).handle(create, 'read');
    expect(answer.httpStatus).toBe(403);
    expect(answer.envelope.results[0]).toMatchObject({ success: false, error: 'this key (read) may not make a session.create request: it needs the write scope' });
    expect(hub.sessions.size).toBe(0);
  });

  it('answers a read key what it may read, and a write key everything', async () => {
    const hub = new InMemoryHubApi();
    expect((await webhook(hub).handle({ type: 'session.list' }, 'read')).httpStatus).toBe(200);
    expect((await webhook(hub).handle(create, 'write')).httpStatus).toBe(200);
    expect(hub.sessions.size).toBe(1);
  });
});
