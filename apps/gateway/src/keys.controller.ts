import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiKey,
  ApiKeyIdSchema,
  ApiKeyPage,
  CreateApiKeyRequest,
  CreateApiKeyRequestSchema,
  CreatedApiKey,
  ListApiKeysQuery,
  ListApiKeysQuerySchema,
} from '@hub/contracts';
import { API_PREFIX, ZodValidationPipe } from '@hub/gateway-http';
import { HubApi } from '@hub/hub-api';

/** API keys: created (the token answered once), listed and revoked by admin keys (the guard checks the scope). */
@Controller(`${API_PREFIX}/keys`)
export class KeysController {
  constructor(private readonly hub: HubApi) {}

  @Post()
  create(@Body(new ZodValidationPipe(CreateApiKeyRequestSchema)) request: CreateApiKeyRequest): Promise<CreatedApiKey> {
    return this.hub.createApiKey(request);
  }

  @Get()
  list(@Query(new ZodValidationPipe(ListApiKeysQuerySchema)) query: ListApiKeysQuery): Promise<ApiKeyPage> {
    return this.hub.listApiKeys(query);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  revoke(@Param('id', new ZodValidationPipe(ApiKeyIdSchema)) keyId: string): Promise<ApiKey> {
    return this.hub.revokeApiKey(keyId);
  }
}
