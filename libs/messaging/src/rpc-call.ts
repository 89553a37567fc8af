import type { Msg } from 'nats';
import { Caller, CALLER_HEADER, CallerSchema, HubError, requiresCaller, RpcSubject } from '@hub/contracts';

/**
 * A request/reply handler's context (`@Ctx() call: RpcCall`): the subject, and who asks when the
 * subject reads or writes a tenant's data (requiresCaller). Such a request without a valid caller is
 * refused before any handler runs.
 */
export class RpcCall {
  constructor(
    readonly subject: RpcSubject,
    private readonly asker: Caller | null,
  ) {}

  /** Who asks; only subjects that require a caller have one (asking on another is a programming error). */
  get caller(): Caller {
    if (!this.asker) throw new HubError('internal', `${this.subject} carries no caller`);
    return this.asker;
  }
}

/** The caller a request carries (CALLER_HEADER), validated; null for subjects that take none. */
export function callerOf(subject: RpcSubject, msg: Pick<Msg, 'headers'>): Caller | null {
  if (!requiresCaller(subject)) return null;
  const header = msg.headers?.get(CALLER_HEADER);
  if (!header) throw new HubError('bad_request', `${subject} needs the ${CALLER_HEADER} header: who asks, for which tenant`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    throw new HubError('bad_request', `the ${CALLER_HEADER} header is not JSON`);
  }
  const caller = CallerSchema.safeParse(parsed);
  if (!caller.success) throw new HubError('bad_request', `the ${CALLER_HEADER} header is not a caller: ${caller.error.issues[0]?.message}`);
  return caller.data;
}
