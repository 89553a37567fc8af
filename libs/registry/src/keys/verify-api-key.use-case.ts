import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '@hub/contracts';
import { API_KEY_SETTINGS, type ApiKeySettings } from './api-keys.tokens';
import { parseApiKeyToken, secretMatches } from './api-key-token';
import { ApiKeyStore } from './api-key-store';

/**
 * Who a `hub_` token is: its key's caller (name, tenant, scope), or null when the token is malformed,
 * its key unknown or revoked, or its secret not the key's. Read on every request (no cache), so a
 * revoked key is refused at once. Records the use, at most once a minute.
 */
@Injectable()
export class VerifyApiKey {
  constructor(
    private readonly store: ApiKeyStore,
    @Inject(API_KEY_SETTINGS) private readonly settings: ApiKeySettings,
  ) {}

  async execute(token: string): Promise<Caller | null> {
    const parsed = parseApiKeyToken(token);
    if (!parsed) return null;
    const key = await this.store.findLive(parsed.id);
    if (!key || !secretMatches(this.settings.pepper, parsed.secret, key.secretHash)) return null;
    if (key.stale) await this.store.touch(parsed.id);
    return { key: key.name, tenant: key.tenant, scope: key.scope };
  }
}
