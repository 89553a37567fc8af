import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { RPC, RpcRequest } from '@hub/contracts';
import { RpcCall } from '@hub/messaging';
import { ApiKeyStore, CreateApiKey, RevokeApiKey, VerifyApiKey } from '@hub/registry';

/** API keys: created, listed and revoked by admin keys (CallerScopeGuard), verified for the gateway on every request. */
@Controller()
export class ApiKeysController {
  constructor(
    private readonly createKey: CreateApiKey,
    private readonly revokeKey: RevokeApiKey,
    private readonly verifyKey: VerifyApiKey,
    private readonly keys: ApiKeyStore,
  ) {}

  @MessagePattern(RPC.createApiKey)
  onCreateApiKey(@Payload() request: RpcRequest<typeof RPC.createApiKey>, @Ctx() call: RpcCall) {
    return this.createKey.execute(call.caller, request);
  }

  @MessagePattern(RPC.listApiKeys)
  onListApiKeys(@Payload() query: RpcRequest<typeof RPC.listApiKeys>) {
    return this.keys.list(query);
  }

  @MessagePattern(RPC.revokeApiKey)
  onRevokeApiKey(@Payload() { id }: RpcRequest<typeof RPC.revokeApiKey>) {
    return this.revokeKey.execute(id);
  }

  @MessagePattern(RPC.verifyApiKey)
  async onVerifyApiKey(@Payload() { token }: RpcRequest<typeof RPC.verifyApiKey>) {
    return { caller: await this.verifyKey.execute(token) };
  }
}
