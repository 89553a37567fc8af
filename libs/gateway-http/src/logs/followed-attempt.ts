import { HubError, isTerminal, type SessionView } from '@hub/contracts';

/** Where an attempt is, as its session's view tells: not started yet, running, or over. */
export type AttemptState = 'waiting' | 'running' | 'ended';

/**
 * The attempt a follow is about: the one asked for, else the latest — the one running, the last one
 * of an ended session, or, for a session still to start (created, waiting, ready for a retry), the
 * one it starts next. Not found when it cannot come: the session ended before it.
 */
export function attemptToFollow(session: SessionView, requested?: number): number {
  if (requested !== undefined) {
    if (requested > session.attempt && isTerminal(session.status)) {
      throw new HubError('not_found', `no attempt ${requested}: session ${session.id} is ${session.status} after ${session.attempt} attempt(s)`);
    }
    return requested;
  }
  if (isTerminal(session.status)) {
    if (session.attempt === 0) throw new HubError('not_found', `no log: session ${session.id} is ${session.status} and never ran`);
    return session.attempt;
  }
  return session.status === 'starting' || session.status === 'running' ? session.attempt : session.attempt + 1;
}

export function attemptState(session: SessionView, attempt: number): AttemptState {
  if (attempt < session.attempt) return 'ended';
  if (attempt > session.attempt) return isTerminal(session.status) ? 'ended' : 'waiting';
  return session.status === 'starting' || session.status === 'running' ? 'running' : 'ended';
}

/** How often the session is read once the attempt's end marker came, until its view shows the attempt over. */
const CONFIRM_POLL_MS = 200;

/**
 * Resolves once the session's view shows the attempt over (the runner stores the attempt's log, then
 * reports its end), or after `timeoutMs`: read through `readSession` (the HubApi port) every 200 ms.
 */
export async function untilAttemptOver(readSession: () => Promise<SessionView>, attempt: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!signal.aborted && Date.now() < deadline) {
    const session = await readSession().catch(() => null);
    if (session && attemptState(session, attempt) === 'ended') return;
    await new Promise((resolve) => setTimeout(resolve, CONFIRM_POLL_MS));
  }
}

export interface AttemptWatchOptions {
  /** How often the session is read. */
  pollMs: number;
  /** How long an attempt that has not started is waited for. */
  startTimeoutMs: number;
}

/**
 * The fallback end of a follow, for when an attempt's end marker never comes (its runner died) or
 * the attempt never starts: reads the session every `pollMs` through `readSession` (the HubApi
 * port), and calls `stop` once the attempt is over and everything it published has been read (the
 * last message read was the last stored, and nothing came for a poll's time), or once it has not
 * started within `startTimeoutMs` (`timedOut`).
 */
export class AttemptWatch {
  timedOut = false;
  private caughtUp = true;
  private received = false;
  private lastReceivedAt = Date.now();
  private readonly since = Date.now();
  private reading = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly attempt: number,
    private readonly readSession: () => Promise<SessionView>,
    private readonly stop: () => void,
    private readonly options: AttemptWatchOptions,
  ) {
    this.timer = setInterval(() => void this.check(), options.pollMs);
  }

  /** A message was read; `pending` of the attempt's were stored after it. */
  receivedOne(pending: number): void {
    this.received = true;
    this.caughtUp = pending === 0;
    this.lastReceivedAt = Date.now();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const state = attemptState(await this.readSession(), this.attempt);
      const now = Date.now();
      if (state === 'ended' && this.caughtUp && now - this.lastReceivedAt >= this.options.pollMs) this.stop();
      if (state === 'waiting' && !this.received && now - this.since >= this.options.startTimeoutMs) {
        this.timedOut = true;
        this.stop();
      }
    } catch {
      // The registry did not answer: the next check asks again.
    } finally {
      this.reading = false;
    }
  }
}
