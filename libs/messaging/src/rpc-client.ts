import { Inject, Injectable } from '@nestjs/common';
import { headers as natsHeaders, NatsConnection } from 'nats';
import { z } from 'zod';
import {
  Caller,
  CALLER_HEADER,
  HubError,
  requiresCaller,
  RPC_CATALOG,
  RpcErrorSchema,
  RpcRequest,
  RpcResponse,
  RpcSubject,
  unavailable,
} from '@hub/contracts';
import { inSpan, SpanKind } from '@hub/tracing';
import { requestSpanAttributes, withTraceContext } from './message-tracing';
import { decodeJson, encodeJson, NATS_CONNECTION } from './nats-connection';

const ResultSchema = z.union([
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), error: RpcErrorSchema }),
]);

/**
 * Calls another service over NATS request/reply. It waits as long as the catalog says for the
 * subject (RPC_CATALOG's `timeoutMs`); the answer is validated against the contract; an error
 * answer is rethrown as the HubError it was; no answer becomes `unavailable`, naming the responder.
 * In a trace, the call is a `request <subject>` span, and the request carries its context.
 */
@Injectable()
export class RpcClient {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /**
   * `caller`: who asks, for a subject that reads or writes a tenant's data (requiresCaller); the
   * responder refuses such a request without it, so it is a programming error to leave it out.
   */
  async call<S extends RpcSubject>(subject: S, request: RpcRequest<S>, caller?: Caller): Promise<RpcResponse<S>> {
    const { timeoutMs } = RPC_CATALOG[subject];
    const headers = natsHeaders();
    if (caller) headers.set(CALLER_HEADER, JSON.stringify(caller));
    else if (requiresCaller(subject)) throw new HubError('internal', `${subject} needs the caller: who asks, for which tenant`);
    const settings = { kind: SpanKind.CLIENT, attributes: () => requestSpanAttributes(subject, request, 'send') };
    return inSpan(`request ${subject}`, settings, async () => {
      let reply;
      try {
        reply = await this.nc.request(subject, encodeJson(request), { timeout: timeoutMs, headers: withTraceContext(headers) });
      } catch (error) {
        throw this.noAnswer(subject, error, timeoutMs);
      }
      const result = ResultSchema.parse(decodeJson(reply.data));
      if (!result.ok) throw new HubError(result.error.code, result.error.message, result.error.details);
      return RPC_CATALOG[subject].response.parse(result.data) as RpcResponse<S>;
    });
  }

  private noAnswer(subject: RpcSubject, error: unknown, timeoutMs: number): HubError {
    const code = (error as { code?: string }).code;
    const service = RPC_CATALOG[subject].respondedBy;
    if (code === '503') {
      return unavailable(`${service} is not running: nobody answers ${subject} on NATS`);
    }
    if (code === 'TIMEOUT') {
      return unavailable(`${service} did not answer ${subject} within ${timeoutMs} ms`);
    }
    return unavailable(`NATS request ${subject} failed: ${(error as Error).message}`);
  }
}
