import { HeldSession, RPC } from '@hub/contracts';
import { RpcClient } from '@hub/messaging';

/** Every session the registry says `runnerId` holds (starting or running, claimed by it), read a page at a time. */
export async function heldSessionsOf(rpc: RpcClient, runnerId: string): Promise<HeldSession[]> {
  const sessions: HeldSession[] = [];
  let after: string | undefined;
  do {
    const page = await rpc.call(RPC.heldSessions, { runnerId, ...(after ? { after } : {}) });
    sessions.push(...page.sessions);
    after = page.nextAfter ?? undefined;
  } while (after);
  return sessions;
}
