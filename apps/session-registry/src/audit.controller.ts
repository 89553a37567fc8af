import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RPC, RpcRequest } from '@hub/contracts';
import { AuditLog } from '@hub/registry';

/** The audit log, read by admin keys (CallerScopeGuard); written by AuditInterceptor. */
@Controller()
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @MessagePattern(RPC.listAudit)
  onListAudit(@Payload() query: RpcRequest<typeof RPC.listAudit>) {
    return this.audit.list(query);
  }
}
