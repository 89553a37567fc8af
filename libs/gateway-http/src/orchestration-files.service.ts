import { CallerRpc } from './auth/caller-context';
import { Injectable } from '@nestjs/common';
import { HubError, orchestrationChangesKey, OrchestrationSummary, RPC } from '@hub/contracts';
import type { HubFile } from '@hub/hub-api';
import { OutputStore } from '@hub/messaging';
import { DIFF_CONTENT_TYPE, readOutputStore } from './session-files.service';

/**
 * Why an orchestration has no combined change to show. A runner combines the changes of its final
 * sessions once every session ended, and records the result (with a reason when there is none).
 */
export function noCombinedChangeMessage(orchestration: OrchestrationSummary): string {
  const { id, status, result } = orchestration;
  if (result) return `no combined change: orchestration ${id} has none: ${result.reason ?? 'no session changed anything'}`;
  switch (status) {
    case 'running':
      return `no combined change yet: orchestration ${id} is running: its sessions are still running; the combined change is made when every session ended`;
    case 'pending':
      return `no combined change yet: orchestration ${id} is pending: some of its sessions were never started; the combined change is made when every session ended`;
    default:
      return `no combined change yet: orchestration ${id} is ${status}: its sessions' changes are being combined; try again shortly`;
  }
}

/** An orchestration's files in the output store: the diff of its combined change, for NatsHubApi. */
@Injectable()
export class OrchestrationFiles {
  constructor(
    private readonly rpc: CallerRpc,
    private readonly store: OutputStore,
  ) {}

  /** The unified diff of the combined change, streamed; not_found, saying why, when there is none. */
  async changes(orchestrationId: string): Promise<HubFile> {
    const orchestration = await this.rpc.call(RPC.getOrchestration, { orchestrationId, limit: 1 });
    if (!orchestration.result?.changes) throw new HubError('not_found', noCombinedChangeMessage(orchestration));
    const diff = await readOutputStore(() => this.store.getChangesDiffStream(orchestrationChangesKey(orchestrationId)));
    if (!diff) throw new HubError('not_found', `the combined change of orchestration ${orchestrationId} is recorded but its diff is not in the output store`);
    return { content: diff, contentType: DIFF_CONTENT_TYPE };
  }
}
