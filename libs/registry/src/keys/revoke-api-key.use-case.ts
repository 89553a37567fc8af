import { Injectable } from '@nestjs/common';
import { type ApiKey, notFound } from '@hub/contracts';
import { ApiKeyStore } from './api-key-store';

/** Revokes a key: the gateway asks the registry about every request's key, so its next request is refused. */
@Injectable()
export class RevokeApiKey {
  constructor(private readonly store: ApiKeyStore) {}

  async execute(id: string): Promise<ApiKey> {
    const key = await this.store.revoke(id);
    if (!key) throw notFound('API key', id);
    return key;
  }
}
