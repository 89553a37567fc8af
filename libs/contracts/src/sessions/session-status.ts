import { z } from 'zod';

/** Every status a session can be in, in lifecycle order. */
export const SESSION_STATUSES = [
  'created',
  'waiting',
  'ready',
  'starting',
  'running',
  'completed',
  'failed',
  'cancelled',
  'timed_out',
  'skipped',
] as const;

export const SessionStatusSchema = z.enum(SESSION_STATUSES);
export type SessionStatus = z.infer<typeof SessionStatusSchema>;

export const TERMINAL_STATUSES = ['completed', 'failed', 'cancelled', 'timed_out', 'skipped'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export function isTerminal(status: SessionStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** Ended any way but completed: what an orchestration's retry runs again, and a session's re-run takes along downstream. */
export const NOT_COMPLETED_STATUSES = ['failed', 'timed_out', 'cancelled', 'skipped'] as const satisfies readonly TerminalStatus[];

/** A runner holds the session: it has, or is about to have, a container. */
export const HELD_STATUSES = ['starting', 'running'] as const satisfies readonly SessionStatus[];

/** Started and not ended: an orchestration with such a session is running. */
export const ACTIVE_STATUSES = ['waiting', 'ready', ...HELD_STATUSES] as const satisfies readonly SessionStatus[];

/**
 * The statuses a session may move to from each status. The registry refuses any other move,
 * and the refusal is what a client sees as 409 (for instance starting a completed session).
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<SessionStatus, readonly SessionStatus[]>> = {
  created: ['waiting', 'cancelled', 'skipped'],
  waiting: ['ready', 'cancelled', 'skipped'],
  // → skipped: its orchestration's budget covers no further session (it was never handed to a runner).
  ready: ['starting', 'cancelled', 'skipped'],
  // → ready: a failed attempt with retries left goes back to the runners, after a backoff.
  starting: ['running', 'completed', 'failed', 'cancelled', 'timed_out', 'ready'],
  running: ['completed', 'failed', 'cancelled', 'timed_out', 'ready'],
  // → waiting: only a re-run on request (a session's rerun, an orchestration's retry) ends an end.
  completed: ['waiting'],
  failed: ['waiting'],
  cancelled: ['waiting'],
  timed_out: ['waiting'],
  skipped: ['waiting'],
};

/** The statuses from which a move to `to` is allowed. */
export function statusesThatMayMoveTo(to: SessionStatus): SessionStatus[] {
  return SESSION_STATUSES.filter((from) => ALLOWED_TRANSITIONS[from].includes(to));
}
