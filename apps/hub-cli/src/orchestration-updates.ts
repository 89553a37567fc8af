import { setTimeout as sleep } from 'node:timers/promises';
import { HubError, type OrchestrationView } from '@hub/contracts';
import type { HubApi } from '@hub/hub-api';

export const ORCHESTRATION_POLL_MS = 500;
/** Polls that may fail in a row (the gateway restarting) before the watch gives up. */
const FAILED_POLLS_TOLERATED = 20;

/** The orchestration with every one of its sessions: the pages after the first read on with `nextCursor`. */
export async function readOrchestration(hub: HubApi, orchestrationId: string): Promise<OrchestrationView> {
  const view = await hub.getOrchestration(orchestrationId);
  const sessions = [...view.sessions];
  for (let cursor = view.nextCursor; cursor; ) {
    const page = await hub.getOrchestration(orchestrationId, { cursor });
    sessions.push(...page.sessions);
    cursor = page.nextCursor;
  }
  return { ...view, sessions, nextCursor: null };
}

/**
 * The orchestration as it changes, whole, until the consumer stops reading or `signal` aborts.
 * It polls the gateway every `intervalMs`; an events stream would take its place here, and the
 * watch would not change. A gateway that does not answer for a while (restarting) is waited for;
 * an answer that refuses (not found, unauthorized) ends it.
 */
export async function* orchestrationUpdates(
  hub: HubApi,
  orchestrationId: string,
  { intervalMs = ORCHESTRATION_POLL_MS, signal }: { intervalMs?: number; signal?: AbortSignal } = {},
): AsyncGenerator<OrchestrationView> {
  let failedInARow = 0;
  while (!signal?.aborted) {
    try {
      yield await readOrchestration(hub, orchestrationId);
      failedInARow = 0;
    } catch (error) {
      const transient = error instanceof HubError && error.code === 'unavailable';
      if (!transient || ++failedInARow > FAILED_POLLS_TOLERATED) throw error;
    }
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
}
