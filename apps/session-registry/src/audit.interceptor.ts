import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { mergeMap, type Observable } from 'rxjs';
import { HUB_LOGGER, type HubLogger } from '@hub/config';
import { type AuditedSubject, isAudited, type RpcRequest, type RpcResponse } from '@hub/contracts';
import { RpcCall } from '@hub/messaging';
import { AuditLog, auditEntryOf } from '@hub/registry';

/**
 * Writes the audit log: after a request whose subject the catalog marks `audited` succeeded, one
 * entry naming its caller's key and tenant, the action and its target. A write that failed is not
 * recorded. The entry is written after the write's own transaction: if writing it fails, the write
 * stands, its answer goes out, and the registry's log says which entry is missing.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly audit: AuditLog,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const call: unknown = context.switchToRpc().getContext();
    if (!(call instanceof RpcCall) || !isAudited(call.subject)) return next.handle();
    const subject = call.subject;
    const request = context.switchToRpc().getData<RpcRequest<AuditedSubject>>();
    return next.handle().pipe(
      mergeMap(async (answer: RpcResponse<AuditedSubject>) => {
        await this.record(subject, call, request, answer);
        return answer;
      }),
    );
  }

  private async record(subject: AuditedSubject, call: RpcCall, request: RpcRequest<AuditedSubject>, answer: RpcResponse<AuditedSubject>) {
    const entry = auditEntryOf(subject, call.caller, request, answer);
    try {
      await this.audit.record(entry);
    } catch (error) {
      this.logger.error({ ...entry, err: (error as Error).message }, 'audit entry not written');
    }
  }
}
