import { createHash, timingSafeEqual } from 'node:crypto';
import { API_KEY_TOKEN_PATTERN, API_KEY_TOKEN_PREFIX, type Caller, DEFAULT_TENANT } from '@hub/contracts';

/** Who the bootstrap token (HUB_API_TOKEN, or the state dir's api-token) is: the operator's admin key. */
export const BOOTSTRAP_CALLER: Caller = { key: 'bootstrap', tenant: DEFAULT_TENANT, scope: 'admin' };

/** The key name of a claude-hub client that sends CLAUDE_WEBHOOK_SECRET. */
export const CLAUDE_HUB_KEY = 'claude-hub';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Compares in constant time, whatever the lengths (both sides are hashed first). */
export function tokensMatch(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Where a request came in: the claude-hub endpoint also takes CLAUDE_WEBHOOK_SECRET. */
export type Entrance = 'api' | 'claude-hub';

export interface AuthenticatorOptions {
  /** The bootstrap token, compared here: BOOTSTRAP_CALLER. */
  bootstrapToken: string;
  /** CLAUDE_WEBHOOK_SECRET, as claude-hub's clients send it, and the tenant of its caller (write scope). */
  claudeWebhook?: { secret: string; tenant: string };
  /** Who a `hub_` token is: the registry's answer (hub.registry.keys.verify), null when unknown or revoked. Without it, no API key is known. */
  verifyKey?: (token: string) => Promise<Caller | null>;
}

/**
 * Tells who a request's token is: the bootstrap token, the claude-hub webhook secret (on that
 * endpoint only), or an API key, asked of the registry on every request (no cache: a revoked key is
 * refused at once). Anything else is a problem to answer with 401.
 */
export class Authenticator {
  private readonly claudeHubCaller: Caller | null;

  constructor(private readonly options: AuthenticatorOptions) {
    const webhook = options.claudeWebhook;
    this.claudeHubCaller = webhook ? { key: CLAUDE_HUB_KEY, tenant: webhook.tenant, scope: 'write' } : null;
  }

  async callerOf(token: string, entrance: Entrance = 'api'): Promise<Caller | { problem: string }> {
    if (tokensMatch(token, this.options.bootstrapToken)) return BOOTSTRAP_CALLER;
    const webhook = this.options.claudeWebhook;
    if (entrance === 'claude-hub' && webhook && this.claudeHubCaller && tokensMatch(token, webhook.secret)) return this.claudeHubCaller;
    if (!token.startsWith(API_KEY_TOKEN_PREFIX)) return { problem: 'invalid API token' };
    const caller = API_KEY_TOKEN_PATTERN.test(token) && this.options.verifyKey ? await this.options.verifyKey(token) : null;
    return caller ?? { problem: 'invalid API key' };
  }
}
