import { context, type Context, propagation, ROOT_CONTEXT, type TextMapGetter, type TextMapSetter, trace } from '@opentelemetry/api';
import { tracingEnabled } from './hub-tracing';

/**
 * A trace context as W3C Trace Context writes it: `traceparent` (trace id, parent span id, flags) and
 * `tracestate` when there is one. What travels in a message's headers, and what the registry stores
 * with an outbox row or a session. It names spans, never what they did.
 */
export type TraceContext = Readonly<Record<string, string>>;

/** Message headers (NATS's MsgHdrs, a plain map): where a trace context travels. */
export interface HeaderCarrier {
  get(name: string): string | null | undefined;
  set(name: string, value: string): void;
}

const headerGetter: TextMapGetter<HeaderCarrier> = {
  // NATS answers '' for a header it does not have.
  get: (carrier, key) => carrier.get(key) || undefined,
  keys: () => [],
};
const headerSetter: TextMapSetter<HeaderCarrier> = { set: (carrier, key, value) => carrier.set(key, value) };

/** Whether `of` (default: the active context) holds a span, that is, a trace to continue. */
export function hasTrace(of: Context = context.active()): boolean {
  return tracingEnabled() && trace.getSpanContext(of) !== undefined;
}

/** Writes the trace context of `from` (default: the active one) into `headers`; writes nothing when it holds no span. */
export function injectTraceContext(headers: HeaderCarrier, from: Context = context.active()): void {
  propagation.inject(from, headers, headerSetter);
}

/** The context a message's headers carry, to continue its trace; the root context (no trace) when they carry none. */
export function extractTraceContext(headers: HeaderCarrier | null | undefined): Context {
  return headers && tracingEnabled() ? propagation.extract(ROOT_CONTEXT, headers, headerGetter) : ROOT_CONTEXT;
}

/** The trace context of `from` (default: the active one), to store or send; null when it holds no span or tracing is off. */
export function traceContextOf(from: Context = context.active()): TraceContext | null {
  if (!hasTrace(from)) return null;
  const carrier: Record<string, string> = {};
  propagation.inject(from, carrier);
  return carrier['traceparent'] ? carrier : null;
}

/** The context a stored trace context stands for (the root context, no trace, for none). */
export function contextOf(stored: TraceContext | null | undefined): Context {
  return stored && tracingEnabled() ? propagation.extract(ROOT_CONTEXT, stored) : ROOT_CONTEXT;
}
