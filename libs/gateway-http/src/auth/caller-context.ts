import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { Caller, HubError, requiresCaller, RpcRequest, RpcResponse, RpcSubject } from '@hub/contracts';
import { RpcClient } from '@hub/messaging';

const callers = new AsyncLocalStorage<Caller>();

/**
 * Who the request being served comes from, as the authentication middleware resolved it from its
 * credentials: set for the rest of the request's handling (`runAs`), read wherever the gateway asks the
 * registry on its behalf (CallerRpc), so that no request reaches a tenant's data without its caller.
 */
export const CallerContext = {
  runAs<T>(caller: Caller, work: () => T): T {
    return callers.run(caller, work);
  },
  /** The caller of the request being served; an internal error outside one (a route left unguarded). */
  current(): Caller {
    const caller = callers.getStore();
    if (!caller) throw new HubError('internal', 'no caller: this request was not authenticated');
    return caller;
  },
};

/** The registry's request/reply as the gateway calls it: tenant-scoped subjects carry the request's caller. */
@Injectable()
export class CallerRpc {
  constructor(private readonly rpc: RpcClient) {}

  call<S extends RpcSubject>(subject: S, request: RpcRequest<S>): Promise<RpcResponse<S>> {
    return this.rpc.call(subject, request, requiresCaller(subject) ? CallerContext.current() : undefined);
  }
}
