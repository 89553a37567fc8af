import type { Caller } from '@hub/contracts';
import { Authenticator, BOOTSTRAP_CALLER, tokensMatch } from './authenticator';

describe('who a token is', () => {
  const key = `hub_${'0'.repeat(32)}_${'s'.repeat(43)}`;
  const ci: Caller = { key: 'ci', tenant: 'team-a', scope: 'write' };
  const asked: string[] = [];
  const authenticator = new Authenticator({
    bootstrapToken: 'the-bootstrap-token',
    claudeWebhook: { secret: 'the-claude-webhook-secret', tenant: 'team-b' },
    verifyKey: async (token) => {
      asked.push(token);
      return token === key ? ci : null;
    },
  });

  beforeEach(() => (asked.length = 0));

  it('is the bootstrap admin for the bootstrap token, compared here without asking the registry', async () => {
    expect(await authenticator.callerOf('the-bootstrap-token')).toEqual(BOOTSTRAP_CALLER);
    expect(asked).toEqual([]);
    expect(tokensMatch('abc', 'abc')).toBe(true);
    expect(tokensMatch('abc', 'abcd')).toBe(false);
  });

  it("is the key's caller for a `hub_` token the registry knows, asked every time; 'invalid API key' otherwise", async () => {
    expect(await authenticator.callerOf(key)).toEqual(ci);
    expect(await authenticator.callerOf(key)).toEqual(ci);
    expect(await authenticator.callerOf(`hub_${'1'.repeat(32)}_${'s'.repeat(43)}`)).toEqual({ problem: 'invalid API key' });
    expect(asked).toHaveLength(3);
    // Not of the form: refused without a question.
    expect(await authenticator.callerOf(`${key}x`)).toEqual({ problem: 'invalid API key' });
    expect(asked).toHaveLength(3);
    expect(await authenticator.callerOf('something-else')).toEqual({ problem: 'invalid API token' });
  });

  it('takes the claude-hub webhook secret on the claude-hub endpoint only, as a write caller of its tenant', async () => {
    expect(await authenticator.callerOf('the-claude-webhook-secret', 'claude-hub')).toEqual({ key: 'claude-hub', tenant: 'team-b', scope: 'write' });
    expect(await authenticator.callerOf('the-claude-webhook-secret', 'api')).toEqual({ problem: 'invalid API token' });
  });

  it('knows no key without the registry', async () => {
    expect(await new Authenticator({ bootstrapToken: 'b' }).callerOf(key)).toEqual({ problem: 'invalid API key' });
  });
});
