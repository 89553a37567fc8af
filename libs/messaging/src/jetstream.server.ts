import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { ConsumerMessages, JsMsg, Msg, NatsConnection, Subscription } from 'nats';
import { lastValueFrom, Observable, throwError } from 'rxjs';
import {
  EVENT_STREAM,
  EVENT_SUBJECTS,
  ErrorCode,
  EventSubject,
  HubError,
  parseEventEnvelope,
  parseOrBadRequest,
  RPC_CATALOG,
  RpcError,
  RpcSubject,
} from '@hub/contracts';
import { HubLogger } from '@hub/config';
import { HubCounter, hubCounter, MetricsRegistry, processMetrics } from '@hub/metrics';
import { extractTraceContext, idAttributes, inSpan, messagingAttributes, recordFailure, type Span, SPAN_ATTRIBUTES, SpanKind } from '@hub/tracing';
import { DeferredDelivery } from './deferred-delivery';
import { durableName, ensureDurableConsumer, ensureEventStream } from './event-stream';
import { eventSpanAttributes } from './message-tracing';
import { decodeJson, encodeJson } from './nats-connection';
import { callerOf, RpcCall } from './rpc-call';

const PERMANENT_FAILURES = new Set<ErrorCode>(['bad_request', 'not_found', 'conflict']);
/** Answers that say the service failed, rather than that it refused the request. */
const SERVICE_FAILURES = new Set<ErrorCode>(['internal', 'unavailable']);

/**
 * How long JetStream waits for the ack of an event it delivered before delivering it again. It is
 * also how long the events a crashed (kill -9) service had in hand wait before its successor gets
 * them, so it is short; a handler that takes longer tells JetStream it is still working on it.
 */
export const DEFAULT_ACK_WAIT_MS = 10_000;

/**
 * What became of an event delivered to a handler: acknowledged (ok), failed and to be delivered again
 * (redelivered), handed back on purpose to be seen later (deferred), dropped as malformed or refused (terminated).
 */
const EVENT_OUTCOMES = ['ok', 'redelivered', 'deferred', 'terminated'] as const;
type EventOutcome = (typeof EVENT_OUTCOMES)[number];

const eventsHandled = (registry: MetricsRegistry) =>
  hubCounter(registry, {
    name: 'hub_events_handled_total',
    help: "Events delivered to this service's handlers, by subject and outcome (ok, redelivered, deferred, terminated)",
    labels: { subject: EVENT_SUBJECTS, outcome: EVENT_OUTCOMES },
  });

/** Lets a subject be read only while the service has room for more work (a runner's slots). */
export interface CapacityGate {
  waitForRoom(): Promise<void>;
}

export interface JetStreamServerOptions {
  /** The service's name: prefix of its durable consumers and its request/reply queue group. */
  service: string;
  nc: NatsConnection;
  logger: HubLogger;
  /** Every event subject the service handles; asserted at boot to have exactly one handler each. */
  events: readonly EventSubject[];
  /** Every request/reply subject the service answers; asserted likewise. */
  rpc: readonly RpcSubject[];
  /** Durables shared with other services' instances (runners split ready sessions through one). */
  sharedDurables?: Partial<Record<EventSubject, string>>;
  /** Subjects pulled one message at a time, and only when their gate has room. */
  gated?: Partial<Record<EventSubject, CapacityGate>>;
  /** Default DEFAULT_ACK_WAIT_MS. */
  ackWaitMs?: number;
  /** Turns infrastructure failures (database down) into errors a caller can act on. */
  classifyError?: (error: unknown) => HubError | undefined;
  /** Where hub_events_handled_total is counted; default the process's metrics. */
  metrics?: MetricsRegistry;
}

/**
 * A NestJS transport that binds `@EventPattern(subject)` handlers to JetStream durable consumers
 * (validate on receipt, ack after the handler resolves, nak with backoff when it throws, nak with
 * the asked delay when it defers (DeferredDelivery), term what is malformed) and
 * `@MessagePattern(subject)` handlers to NATS request/reply. Each handler runs in a span continuing
 * the trace the message's headers carry (message-tracing.ts).
 */
export class JetStreamServer extends Server implements CustomTransportStrategy {
  private readonly feeds: ConsumerMessages[] = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly handled: HubCounter<'subject' | 'outcome'>;
  private closed = false;

  constructor(private readonly options: JetStreamServerOptions) {
    super();
    this.handled = eventsHandled(options.metrics ?? processMetrics());
    // The subjects this service handles are counted from 0 (the catalog's others are not its own).
    for (const subject of options.events) for (const outcome of EVENT_OUTCOMES) this.handled.inc({ subject, outcome }, 0);
  }

  private get ackWaitMs(): number {
    return this.options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      this.assertEveryOwnedSubjectHasOneHandler();
      const jsm = await this.options.nc.jetstreamManager();
      await ensureEventStream(jsm);
      for (const subject of this.options.events) {
        const durable = this.options.sharedDurables?.[subject] ?? durableName(this.options.service, subject);
        await ensureDurableConsumer(jsm, durable, subject, this.ackWaitMs);
        const gate = this.options.gated?.[subject];
        if (gate) void this.pullWhenThereIsRoom(subject, durable, gate);
        else await this.consume(subject, durable);
      }
      for (const subject of this.options.rpc) {
        this.subscriptions.push(
          this.options.nc.subscribe(subject, {
            queue: this.options.service,
            callback: (_error, msg) => void this.answer(subject, msg),
          }),
        );
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const feed of this.feeds) feed.stop();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  on(): void {
    // Connection status is logged where the connection is made.
  }

  unwrap<T>(): T {
    return this.options.nc as T;
  }

  private assertEveryOwnedSubjectHasOneHandler(): void {
    const owned = new Set<string>([...this.options.events, ...this.options.rpc]);
    const problems: string[] = [];
    for (const [pattern, handler] of this.messageHandlers) {
      if (!owned.has(pattern)) problems.push(`handler for ${pattern}, which ${this.options.service} does not own`);
      if ((handler as MessageHandler).next) problems.push(`more than one handler for ${pattern}`);
    }
    for (const subject of owned) {
      if (!this.messageHandlers.has(subject)) problems.push(`no handler for ${subject}`);
    }
    if (problems.length) throw new Error(`${this.options.service} message handlers: ${problems.join('; ')}`);
  }

  private async consume(subject: EventSubject, durable: string): Promise<void> {
    const consumer = await this.options.nc.jetstream().consumers.get(EVENT_STREAM.name, durable);
    // Pulls that expire after 5 s (the client's default is 30 s, with its heartbeat checks at 15 s): when
    // the NATS node leading this consumer dies, the next pull finds the new leader within seconds, not ~40 s.
    const feed = await consumer.consume({ max_messages: 256, expires: 5_000 });
    this.feeds.push(feed);
    void (async () => {
      for await (const msg of feed) await this.deliver(subject, msg);
    })();
  }

  private async pullWhenThereIsRoom(subject: EventSubject, durable: string, gate: CapacityGate): Promise<void> {
    const consumer = await this.options.nc.jetstream().consumers.get(EVENT_STREAM.name, durable);
    while (!this.closed) {
      await gate.waitForRoom();
      const msg = await consumer.next({ expires: 5_000 }).catch(async (error: Error) => {
        this.options.logger.warn({ subject, err: error.message }, 'pull failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
        return null;
      });
      if (msg && !this.closed) await this.deliver(subject, msg);
    }
  }

  /**
   * Hands an event to its handler in a `process <subject>` span that continues the trace its
   * headers carry (none: no span), then counts what became of it.
   */
  private async deliver(subject: EventSubject, msg: JsMsg): Promise<void> {
    const settings = {
      kind: SpanKind.CONSUMER,
      parent: extractTraceContext(msg.headers),
      attributes: () => messagingAttributes(subject, 'process'),
    };
    await inSpan(`process ${subject}`, settings, async (span) => {
      const outcome = await this.handle(subject, msg, span);
      span.setAttribute(SPAN_ATTRIBUTES.eventOutcome, outcome);
      this.handled.inc({ subject, outcome });
    });
  }

  private async handle(subject: EventSubject, msg: JsMsg, span: Span): Promise<EventOutcome> {
    const logger = this.options.logger;
    let event;
    try {
      event = parseEventEnvelope(subject, decodeJson(msg.data));
    } catch (error) {
      logger.error({ subject, streamSeq: msg.seq, problem: (error as Error).message }, 'malformed event terminated');
      msg.term();
      // The problem is in the log; the span says only that it was malformed (the parser's message may quote the payload).
      recordFailure(span, new Error('malformed event'), 'malformed');
      return 'terminated';
    }
    if (span.isRecording()) span.setAttributes(eventSpanAttributes(event, 'process'));
    // While the handler works, JetStream is told so, well within the ack wait: only an event whose
    // service died (or hung) is delivered again.
    const stillWorking = setInterval(() => {
      try {
        msg.working();
      } catch {
        // the connection is closing: nothing to tell
      }
    }, Math.max(100, Math.floor(this.ackWaitMs / 3)));
    try {
      const handler = this.getHandlerByPattern(subject) as MessageHandler;
      await lastValueFrom(this.transformToObservable(await handler(event)), { defaultValue: undefined });
      clearInterval(stillWorking);
      msg.ack();
      return 'ok';
    } catch (error) {
      clearInterval(stillWorking);
      if (error instanceof DeferredDelivery) {
        // Not a failure: the handler asked to see this event again later.
        logger.debug({ subject, eventId: event.id, retryInMs: error.delayMs, reason: error.message }, 'event deferred');
        msg.nak(Math.max(0, Math.ceil(error.delayMs)));
        return 'deferred';
      }
      recordFailure(span, error);
      if (error instanceof HubError && PERMANENT_FAILURES.has(error.code)) {
        // Retrying cannot help (the event contradicts what is stored): drop it, saying why.
        logger.error({ subject, eventId: event.id, code: error.code, err: error.message }, 'event refused; terminated');
        msg.term();
        return 'terminated';
      }
      const delayMs = Math.min(250 * 2 ** Math.min(msg.info.redeliveryCount, 7), 30_000);
      logger.warn(
        { subject, eventId: event.id, attempt: msg.info.redeliveryCount, retryInMs: delayMs, err: (error as Error).message },
        'event handler failed; will be redelivered',
      );
      msg.nak(delayMs);
      return 'redelivered';
    }
  }

  /**
   * Answers a request in an `answer <subject>` span that continues the trace its headers carry (none:
   * no span). A refusal (bad_request, not_found…) is named on the span (`error.type`); only a failure
   * of the service (internal, unavailable) marks it failed.
   */
  private async answer(subject: RpcSubject, msg: Msg): Promise<void> {
    const settings = {
      kind: SpanKind.SERVER,
      parent: extractTraceContext(msg.headers),
      attributes: () => messagingAttributes(subject, 'process'),
    };
    await inSpan(`answer ${subject}`, settings, async (span) => {
      try {
        let raw: unknown;
        try {
          raw = decodeJson(msg.data);
        } catch {
          throw new HubError('bad_request', 'request is not valid JSON');
        }
        const request = parseOrBadRequest(RPC_CATALOG[subject].request, raw, 'request');
        if (span.isRecording()) span.setAttributes(idAttributes(request));
        const handler = this.getHandlerByPattern(subject) as MessageHandler;
        const call = new RpcCall(subject, callerOf(subject, msg));
        const data = await lastValueFrom(this.transformToObservable(await handler(request, call)), { defaultValue: null });
        this.respond(subject, msg, { ok: true, data });
      } catch (error) {
        const answer = this.toRpcError(subject, error);
        if (SERVICE_FAILURES.has(answer.code)) recordFailure(span, error, answer.code);
        else span.setAttribute(SPAN_ATTRIBUTES.errorType, answer.code);
        this.respond(subject, msg, { ok: false, error: answer });
      }
    });
  }

  /**
   * Sends an answer. One NATS refuses (larger than its max_payload: an error naming 40,000 unknown
   * dependencies) becomes an error saying so; msg.respond throws, and a throw here would be an
   * unhandled rejection that ends the service.
   */
  private respond(subject: RpcSubject, msg: Msg, answer: { ok: true; data: unknown } | { ok: false; error: RpcError }): void {
    const payload = encodeJson(answer);
    try {
      msg.respond(payload);
      return;
    } catch (error) {
      this.options.logger.warn({ subject, bytes: payload.length, err: (error as Error).message }, 'answer not sent; answering why instead');
    }
    const original = answer.ok ? 'the answer' : `the error (${answer.error.message.slice(0, 1000)}…)`;
    const error: RpcError = {
      code: answer.ok ? 'internal' : answer.error.code,
      message: `${original} is ${payload.length} bytes, more than NATS carries (max_payload ${this.options.nc.info?.max_payload})`,
    };
    try {
      msg.respond(encodeJson({ ok: false, error }));
    } catch (failure) {
      this.options.logger.error({ subject, err: (failure as Error).message }, 'answer not sent');
    }
  }

  private toRpcError(subject: RpcSubject, error: unknown): RpcError {
    if (error instanceof HubError) return error.toRpcError();
    const classified = this.options.classifyError?.(error);
    if (classified) return classified.toRpcError();
    this.options.logger.error({ subject, err: error }, 'request failed unexpectedly');
    return { code: 'internal', message: `${this.options.service} failed to handle ${subject}: ${(error as Error)?.message}` };
  }
}

/**
 * Nest wraps handler errors for RPC into a generic "Internal server error"; this filter lets the
 * original error reach JetStreamServer, which turns a HubError into the answer the caller sees.
 */
@Catch()
export class RethrowRpcErrors implements RpcExceptionFilter {
  catch(error: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => error);
  }
}
