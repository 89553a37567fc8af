import { Injectable } from '@nestjs/common';
import { MAX_PAGE_SIZE, OrchestrationSummary, OrchestrationView, RPC, SessionView } from '@hub/contracts';
import { RpcClient } from '@hub/messaging';

/**
 * An orchestration with its sessions. The registry answers summaries (small enough for one NATS
 * message at any size); the sessions are read page by page and returned in the order declared.
 */
@Injectable()
export class OrchestrationViews {
  constructor(private readonly rpc: RpcClient) {}

  async withSessions(summary: OrchestrationSummary): Promise<OrchestrationView> {
    const sessions: SessionView[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.rpc.call(RPC.listSessions, { orchestrationId: summary.id, limit: MAX_PAGE_SIZE, cursor });
      sessions.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return { ...summary, sessions: sessions.reverse() };
  }
}
