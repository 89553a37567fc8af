import { Inject, Injectable } from '@nestjs/common';
import type { Caller, CreateApiKeyRequest, CreatedApiKey } from '@hub/contracts';
import { API_KEY_SETTINGS, type ApiKeySettings } from './api-keys.tokens';
import { newApiKeyToken } from './api-key-token';
import { ApiKeyStore } from './api-key-store';

/**
 * Creates an API key for an admin caller (the registry's scope check let only those through): in
 * the tenant asked for, else the caller's. Answers its token this once; only its hash is stored.
 */
@Injectable()
export class CreateApiKey {
  constructor(
    private readonly store: ApiKeyStore,
    @Inject(API_KEY_SETTINGS) private readonly settings: ApiKeySettings,
  ) {}

  async execute(caller: Caller, request: CreateApiKeyRequest): Promise<CreatedApiKey> {
    const { id, token, secretHash } = newApiKeyToken(this.settings.pepper);
    const key = await this.store.insert({
      id,
      name: request.name,
      scope: request.scope,
      tenant: request.tenant ?? caller.tenant,
      secretHash,
      createdBy: caller.key,
    });
    return { ...key, token };
  }
}
