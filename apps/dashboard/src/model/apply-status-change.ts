import type { EventPayload, SessionStatus } from '@hub/contracts';
import { isEnded } from './statuses';

export type StatusChange = EventPayload<'session.status-changed'>;

/** What a status change tells about a session without reading it again. */
export interface LiveSessionFields {
  id: string;
  status: SessionStatus;
  statusReason: string | null;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/**
 * The session as `change` leaves it, or undefined when the change is not its next move: only a
 * change from the status it is shown in applies, so events replayed from before it was read
 * (a stream starts at the orchestration's creation) change nothing, and the moves after it do.
 */
export function afterStatusChange<S extends LiveSessionFields>(session: S, change: StatusChange): S | undefined {
  if (session.id !== change.sessionId || session.status !== change.from || change.from === change.to) return undefined;
  const next: S = { ...session, status: change.to, statusReason: change.reason, exitCode: change.exitCode };
  if (change.to === 'running' && !session.startedAt) next.startedAt = change.at;
  if (isEnded(change.to)) next.finishedAt = change.at;
  if (change.to === 'waiting' && isEnded(change.from)) Object.assign(next, { startedAt: null, finishedAt: null });
  return next;
}

/** The list with `change` applied to its session; the same list (===) when it changes nothing. */
export function applyStatusChange<S extends LiveSessionFields>(sessions: readonly S[], change: StatusChange): readonly S[] {
  const index = sessions.findIndex((session) => session.id === change.sessionId);
  const next = index < 0 ? undefined : afterStatusChange(sessions[index], change);
  if (!next) return sessions;
  const copy = [...sessions];
  copy[index] = next;
  return copy;
}
