import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { headers, JetStreamClient, Msg, NatsConnection, Subscription } from 'nats';
import { EventEnvelope, EventPayload, EventSubject, validateEventPayload } from '@hub/contracts';
import { contextOf, endSpan, injectTraceContext, inSpan, openSpan, SpanKind, type TraceContext } from '@hub/tracing';
import { eventSpanAttributes, withTraceContext } from './message-tracing';
import { encodeJson, inboxOf, NATS_CONNECTION } from './nats-connection';

/** An outbox row to relay: the envelope, and the trace context it was written in (null: none). */
export interface RelayedEvent {
  envelope: EventEnvelope;
  traceContext?: TraceContext | null;
}

/**
 * The EventBus port: publishes a validated event to JetStream, its id as the message id, in a
 * `publish <subject>` span whose context travels in the message's headers.
 */
@Injectable()
export class EventPublisher {
  private readonly js: JetStreamClient;
  /** Acknowledgements of publishEnvelopes: one subscription, one reply subject per message. */
  private readonly ackPrefix: string;
  private ackSubscription: Subscription | null = null;
  private readonly awaitingAck = new Map<string, (error: Error | null) => void>();
  private nextToken = 0;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {
    this.js = nc.jetstream();
    this.ackPrefix = inboxOf(nc);
  }

  /**
   * Publishes one event. Pass a deterministic `eventId` when the same fact may be published twice
   * (a retry after a crash): JetStream drops the duplicate.
   */
  async publish<S extends EventSubject>(subject: S, data: EventPayload<S>, eventId: string = randomUUID()) {
    const envelope: EventEnvelope<S> = {
      id: eventId,
      subject,
      occurredAt: new Date().toISOString(),
      data: validateEventPayload(subject, data),
    };
    await this.publishEnvelope(envelope);
  }

  /** Publishes an envelope built elsewhere, in the active trace (if any). */
  async publishEnvelope(envelope: EventEnvelope): Promise<void> {
    validateEventPayload(envelope.subject, envelope.data);
    const settings = { kind: SpanKind.PRODUCER, attributes: () => eventSpanAttributes(envelope, 'send') };
    await inSpan(`publish ${envelope.subject}`, settings, async () => {
      await this.js.publish(envelope.subject, encodeJson(envelope), { msgID: envelope.id, headers: withTraceContext(undefined) });
    });
  }

  /**
   * Publishes many envelopes at once, in order, each with its id as message id, and settles when
   * JetStream has acknowledged (or refused) each, or `timeoutMs` has passed. All are in flight
   * together on the one connection, so the stream stores them in the order given, and their
   * acknowledgements come back on one subscription: the client's own JetStream publish makes a
   * request (a timer, an Error) per message, which costs three times as much at thousands of events.
   * One result per envelope, in the same order.
   * Each continues the trace it was written in (its `traceContext`): a `publish <subject>` span, from
   * now to its acknowledgement, whose context the message carries. None: no span, no trace header.
   */
  async publishEnvelopes(events: readonly RelayedEvent[], timeoutMs = 5_000): Promise<PromiseSettledResult<void>[]> {
    this.ackSubscription ??= this.nc.subscribe(`${this.ackPrefix}.*`, { callback: (_error, msg) => this.onAck(msg) });
    const tokens: string[] = [];
    const acknowledged = events.map(
      ({ envelope, traceContext }) =>
        new Promise<void>((resolve, reject) => {
          validateEventPayload(envelope.subject, envelope.data);
          const token = String(this.nextToken++);
          tokens.push(token);
          const span = openSpan(`publish ${envelope.subject}`, {
            kind: SpanKind.PRODUCER,
            parent: contextOf(traceContext),
            attributes: () => eventSpanAttributes(envelope, 'send'),
          });
          this.awaitingAck.set(token, (error) => {
            endSpan(span, error);
            return error ? reject(error) : resolve();
          });
          const header = headers();
          header.set(MSG_ID_HEADER, envelope.id);
          if (span) injectTraceContext(header, span.context);
          this.nc.publish(envelope.subject, encodeJson(envelope), { reply: `${this.ackPrefix}.${token}`, headers: header });
        }),
    );
    const timer = setTimeout(() => {
      for (const token of tokens) {
        this.awaitingAck.get(token)?.(new Error(`JetStream did not acknowledge the event within ${timeoutMs} ms`));
        this.awaitingAck.delete(token);
      }
    }, timeoutMs);
    try {
      return await Promise.allSettled(acknowledged);
    } finally {
      clearTimeout(timer);
    }
  }

  private onAck(msg: Msg): void {
    const token = msg.subject.slice(this.ackPrefix.length + 1);
    const settle = this.awaitingAck.get(token);
    if (!settle) return;
    this.awaitingAck.delete(token);
    settle(pubAckError(msg));
  }
}

const MSG_ID_HEADER = 'Nats-Msg-Id';

/** Null for a JetStream acknowledgement; the reason for anything else (no stream, an API error). */
function pubAckError(msg: Msg): Error | null {
  const status = msg.headers?.code ?? 0;
  if (status >= 300) {
    return new Error(
      status === 503
        ? 'JetStream did not take the event: no stream listens on its subject (503 no responders)'
        : `JetStream did not take the event: ${status} ${msg.headers?.description ?? ''}`.trim(),
    );
  }
  try {
    const ack = JSON.parse(Buffer.from(msg.data).toString('utf8')) as { stream?: string; error?: { description?: string } };
    if (ack.error) return new Error(`JetStream refused the event: ${ack.error.description ?? JSON.stringify(ack.error)}`);
    if (ack.stream) return null;
  } catch {
    // not JSON: fall through
  }
  return new Error('JetStream answered the publish with something other than an acknowledgement');
}
