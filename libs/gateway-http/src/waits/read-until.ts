import type { EventOf } from '@hub/contracts';
import type { Waited } from '@hub/hub-api';
import type { AwaitedSubject, EventWaiters } from '@hub/messaging';

export interface ReadUntil<S extends AwaitedSubject, V> {
  /** The event that may end the wait: `subject`, about `id`, when `accept` takes it (default: any). */
  subject: S;
  id: string;
  accept?: (event: EventOf<S>) => boolean;
  timeoutMs: number;
  read: () => Promise<V>;
  /** Whether a view is what was awaited. */
  reached: (view: V) => boolean;
  /** The view once the event arrived; default: read again. */
  readAfter?: (event: EventOf<S>) => Promise<V>;
}

/**
 * Reads a view and, when it is not yet what was awaited, waits for the event that makes it so, then
 * reads again. The wait is registered before the first read, so a change between that read and the
 * wait is not missed. At the timeout the view is read once more and answered as it is then (reached,
 * should the event have been missed while NATS reconnected).
 */
export async function readUntil<S extends AwaitedSubject, V>(waiters: EventWaiters, until: ReadUntil<S, V>): Promise<Waited<V>> {
  const wait = waiters.next(until.subject, until.id, until.accept ?? (() => true), until.timeoutMs);
  try {
    const current = await until.read();
    if (until.reached(current)) return { view: current, reached: true };
    const event = await wait.event;
    const view = event && until.readAfter ? await until.readAfter(event) : await until.read();
    return { view, reached: until.reached(view) };
  } finally {
    wait.cancel();
  }
}
