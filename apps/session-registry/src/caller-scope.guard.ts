import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { forbidden, requiresCaller, scopeAllows, scopeNeededFor } from '@hub/contracts';
import { RpcCall } from '@hub/messaging';

/**
 * Refuses a request whose caller's scope is less than its subject needs (the catalog's `scope`:
 * write for writes, admin for keys and the audit log), before its handler runs. The gateway refused
 * such a request already, by its HTTP route or MCP tool; this holds whatever entrance it came through.
 */
@Injectable()
export class CallerScopeGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const call: unknown = context.switchToRpc().getContext();
    if (!(call instanceof RpcCall) || !requiresCaller(call.subject)) return true;
    const needed = scopeNeededFor(call.subject);
    const { scope } = call.caller;
    if (!scopeAllows(scope, needed)) throw forbidden(scope, needed, `ask ${call.subject}`);
    return true;
  }
}
