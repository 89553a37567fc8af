import { headers as natsHeaders, type MsgHdrs } from 'nats';
import type { EventEnvelope, RpcSubject } from '@hub/contracts';
import { type Attributes, type Context, hasTrace, idAttributes, injectTraceContext, messagingAttributes, SPAN_ATTRIBUTES } from '@hub/tracing';

/**
 * How a trace travels on NATS: a published event and a request carry the trace context of their span
 * in their headers (W3C `traceparent`, `tracestate`), and the handler's span continues it
 * (extractTraceContext(msg.headers)). The spans: `publish <subject>` (producer) and
 * `process <subject>` (consumer) for events, `request <subject>` (client) and `answer <subject>`
 * (server) for request/reply.
 */

/**
 * `headers` (new ones if none) with the trace context of `from` (default: the active context) in
 * them; `headers` as they were when it holds no trace.
 */
export function withTraceContext(headers: MsgHdrs | undefined, from?: Context): MsgHdrs | undefined {
  if (!hasTrace(from)) return headers;
  const carrier = headers ?? natsHeaders();
  injectTraceContext(carrier, from);
  return carrier;
}

/** An event's span's attributes: its subject and id, and the session and orchestration it is about. */
export function eventSpanAttributes(envelope: Pick<EventEnvelope, 'id' | 'subject' | 'data'>, operation: 'send' | 'process'): Attributes {
  return { ...messagingAttributes(envelope.subject, operation), [SPAN_ATTRIBUTES.messageId]: envelope.id, ...idAttributes(envelope.data) };
}

/** A request's span's attributes: its subject, and the session and orchestration it names. */
export function requestSpanAttributes(subject: RpcSubject, request: unknown, operation: 'send' | 'process'): Attributes {
  return { ...messagingAttributes(subject, operation), ...idAttributes(request) };
}
