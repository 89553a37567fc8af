import type { SessionStatus } from '@hub/contracts';
import { buildSessionView } from '@hub/testing';
import { attemptState, attemptToFollow } from './followed-attempt';

const session = (status: SessionStatus, attempt: number) => buildSessionView({ status, attempt });

describe('attemptToFollow', () => {
  it('follows the running attempt, the next one of a session still to start, the last one of an ended session', () => {
    expect(attemptToFollow(session('running', 2))).toBe(2);
    expect(attemptToFollow(session('starting', 1))).toBe(1);
    expect(attemptToFollow(session('waiting', 0))).toBe(1);
    expect(attemptToFollow(session('ready', 1))).toBe(2); // a retry on its way
    expect(attemptToFollow(session('failed', 2))).toBe(2);
  });

  it('takes the attempt asked for, refusing one an ended session will never have, or an ended session that never ran', () => {
    expect(attemptToFollow(session('running', 3), 1)).toBe(1);
    expect(attemptToFollow(session('running', 1), 2)).toBe(2);
    expect(() => attemptToFollow(session('completed', 2), 3)).toThrow(/no attempt 3: session .* is completed after 2 attempt/);
    expect(() => attemptToFollow(session('skipped', 0))).toThrow(/is skipped and never ran/);
  });
});

describe('attemptState', () => {
  it('tells from the session whether an attempt has not started, runs, or is over', () => {
    expect(attemptState(session('waiting', 0), 1)).toBe('waiting');
    expect(attemptState(session('ready', 1), 2)).toBe('waiting');
    expect(attemptState(session('running', 2), 2)).toBe('running');
    expect(attemptState(session('running', 2), 1)).toBe('ended');
    expect(attemptState(session('ready', 1), 1)).toBe('ended'); // a retry follows
    expect(attemptState(session('cancelled', 1), 2)).toBe('ended'); // it never will start
  });
});
