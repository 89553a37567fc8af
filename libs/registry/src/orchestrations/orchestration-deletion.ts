import { DELETED_SESSIONS_PER_EVENT } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import type { SessionLabel, SessionTransaction } from '../store/session-store';

/** How many sessions a refusal names; the others are counted. */
export const SESSIONS_NAMED = 10;

/**
 * Deletes an orchestration whose every session ended, with its sessions, in `tx` (its row locked
 * first), and appends `orchestration.deleted` naming them, in parts of DELETED_SESSIONS_PER_EVENT:
 * a runner removes their objects. `alsoDeleted`: its sessions deleted earlier in `tx` (its last one,
 * deleted on its own). The one way an orchestration is deleted: by request, with its last session,
 * and by retention. Answers the ids of the sessions deleted with it.
 */
export async function deleteOrchestrationWithin(tx: SessionTransaction, orchestrationId: string, alsoDeleted: string[] = []): Promise<string[]> {
  const sessionIds = [...alsoDeleted, ...(await tx.deleteOrchestration(orchestrationId))];
  const parts: string[][] = [];
  for (let i = 0; i < sessionIds.length; i += DELETED_SESSIONS_PER_EVENT) parts.push(sessionIds.slice(i, i + DELETED_SESSIONS_PER_EVENT));
  await tx.appendEvents((parts.length ? parts : [[]]).map((part) => newEvent('orchestration.deleted', { orchestrationId, sessionIds: part })));
  return sessionIds;
}

/** `impl-a (<id>) running, review (<id>) created and 3 more`: the sessions a refusal is about. */
export function sessionList(sessions: SessionLabel[], total: number): string {
  const named = sessions.map((s) => `${s.name ? `${s.name} (${s.id})` : s.id} ${s.status}`).join(', ');
  return total > sessions.length ? `${named} and ${total - sessions.length} more` : named;
}
