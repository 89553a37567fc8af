import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { Msg, NatsConnection, Subscription } from 'nats';
import { EventOf, EventPayload, parseEventEnvelope } from '@hub/contracts';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { decodeJson, NATS_CONNECTION } from './nats-connection';

/** The events a caller may wait for, each with the id it is awaited by. */
const AWAITED_BY = {
  'session.status-changed': (data: EventPayload<'session.status-changed'>) => data.sessionId,
  'orchestration.finished': (data: EventPayload<'orchestration.finished'>) => data.orchestrationId,
  'orchestration.result': (data: EventPayload<'orchestration.result'>) => data.orchestrationId,
};
export type AwaitedSubject = keyof typeof AWAITED_BY;

/** One wait: the awaited event, or null at the timeout (or when the gateway stops); cancel() when no longer needed. */
export interface EventWait<S extends AwaitedSubject> {
  event: Promise<EventOf<S> | null>;
  cancel(): void;
}

interface Waiter {
  accept(event: EventOf<AwaitedSubject>): boolean;
  settle(event: EventOf<AwaitedSubject> | null): void;
}

/**
 * Waits for events without polling and without a subscription per wait: one core-NATS subscription
 * per awaited subject, opened on first use and shared by every wait (JetStream's publishes are
 * plain publishes on the subject, so core subscribers see them too), and a registry of waiters by
 * subject and id. A wait is registered before the caller reads the current state: a transition
 * between that read and the wait cannot be missed. It sees only what happens while it is
 * registered; whoever waits reads the state again when it ends, timed out or not.
 */
@Injectable()
export class EventWaiters implements OnModuleDestroy {
  private readonly subscriptions = new Map<AwaitedSubject, Subscription>();
  private readonly waiting = new Map<string, Set<Waiter>>();

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Optional() @Inject(HUB_LOGGER) private readonly logger?: HubLogger,
  ) {}

  /** The next `subject` event about `id` that `accept` takes, or null after `timeoutMs`. */
  next<S extends AwaitedSubject>(subject: S, id: string, accept: (event: EventOf<S>) => boolean, timeoutMs: number): EventWait<S> {
    if (!this.subscriptions.has(subject)) {
      this.subscriptions.set(subject, this.nc.subscribe(subject, { callback: (_error, msg) => this.onEvent(subject, msg) }));
    }
    const key = `${subject} ${id}`;
    const waiters = this.waiting.get(key) ?? new Set<Waiter>();
    this.waiting.set(key, waiters);
    let waiter!: Waiter;
    const event = new Promise<EventOf<S> | null>((resolve) => {
      waiter = { accept: accept as Waiter['accept'], settle: resolve as Waiter['settle'] };
    });
    const cancel = () => {
      clearTimeout(timer);
      waiter.settle(null);
      waiters.delete(waiter);
      if (!waiters.size && this.waiting.get(key) === waiters) this.waiting.delete(key);
    };
    waiters.add(waiter);
    const timer = setTimeout(cancel, timeoutMs);
    return { event, cancel };
  }

  /** Ends every wait (each caller answers with the state it reads then) and unsubscribes. */
  onModuleDestroy(): void {
    for (const waiters of this.waiting.values()) for (const waiter of waiters) waiter.settle(null);
    this.waiting.clear();
    for (const subscription of this.subscriptions.values()) subscription.unsubscribe();
    this.subscriptions.clear();
  }

  private onEvent(subject: AwaitedSubject, msg: Msg): void {
    let event: EventOf<AwaitedSubject>;
    try {
      event = parseEventEnvelope(msg.subject, decodeJson(msg.data)) as EventOf<AwaitedSubject>;
    } catch (error) {
      this.logger?.warn({ subject, problem: (error as Error).message }, 'ignored a malformed event while waiting');
      return;
    }
    const id = (AWAITED_BY[subject] as (data: unknown) => string)(event.data);
    for (const waiter of this.waiting.get(`${subject} ${id}`) ?? []) {
      if (waiter.accept(event)) waiter.settle(event);
    }
  }
}
