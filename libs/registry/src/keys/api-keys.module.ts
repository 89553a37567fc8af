import { DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { API_KEY_SETTINGS, type ApiKeySettings } from './api-keys.tokens';
import { ApiKeyStore } from './api-key-store';
import { CreateApiKey } from './create-api-key.use-case';
import { RevokeApiKey } from './revoke-api-key.use-case';
import { VerifyApiKey } from './verify-api-key.use-case';

/** API keys, in the registry's process: created, listed, revoked, and verified for the gateway on every request. */
@Module({})
export class ApiKeysModule {
  static forRoot(dataSource: DataSource, settings: ApiKeySettings): DynamicModule {
    return {
      module: ApiKeysModule,
      providers: [{ provide: DataSource, useValue: dataSource }, { provide: API_KEY_SETTINGS, useValue: settings }, ApiKeyStore, CreateApiKey, RevokeApiKey, VerifyApiKey],
      exports: [ApiKeyStore, CreateApiKey, RevokeApiKey, VerifyApiKey],
    };
  }
}
