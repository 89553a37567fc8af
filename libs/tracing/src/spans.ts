import type { EventEmitter } from 'node:events';
import {
  type Attributes,
  context,
  type Context,
  INVALID_SPAN_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { tracingEnabled } from './hub-tracing';
import { hasTrace } from './trace-context';

export { SpanKind, SpanStatusCode, type Span, type Context, type Attributes };

/** The tracer every Hub span comes from (the service is the resource's service.name). */
export const HUB_TRACER = 'hub';

/**
 * The attributes Hub's spans carry. Ids, subjects, routes, codes and outcomes only: never a payload,
 * a prompt, a path, a header's value or an error's stack.
 */
export const SPAN_ATTRIBUTES = {
  sessionId: 'hub.session.id',
  orchestrationId: 'hub.orchestration.id',
  /** What became of an event delivered to a handler: ok, redelivered, deferred, terminated (as hub_events_handled_total counts it). */
  eventOutcome: 'hub.event.outcome',
  /** The gateway's route: its operationId in the routes catalog (the `route` label of hub_http_requests_total). */
  route: 'hub.route',
  errorType: ATTR_ERROR_TYPE,
  messagingSystem: 'messaging.system',
  messagingDestination: 'messaging.destination.name',
  messagingOperation: 'messaging.operation.type',
  messageId: 'messaging.message.id',
} as const;

/** A span being recorded, and the context in which it is the active span (its children's parent). */
export interface OpenSpan {
  span: Span;
  context: Context;
}

export interface SpanSettings {
  kind: SpanKind;
  /** The context the span continues; default: the active one. */
  parent?: Context;
  /** Given as a function, they are built only when a span is recorded: nothing is spent on them when tracing is off. */
  attributes?: Attributes | (() => Attributes);
  /**
   * Start a trace when `parent` holds none (the gateway's requests do). Otherwise work with no trace
   * to continue (a periodic task, a message that came without one) runs without a span: traces begin
   * where a caller asks something of Hub, not at every timer.
   */
  root?: boolean;
}

/** What `work` is handed when it runs without a span: a span that records nothing. */
const NOT_RECORDED: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

const SESSION_OR_ORCHESTRATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The span `name`, started now; null when tracing is off, or there is no trace to continue and `root` is not asked. */
export function openSpan(name: string, settings: SpanSettings): OpenSpan | null {
  if (!tracingEnabled()) return null;
  const parent = settings.parent ?? context.active();
  if (!settings.root && !hasTrace(parent)) return null;
  const attributes = typeof settings.attributes === 'function' ? settings.attributes() : settings.attributes;
  const span = trace.getTracer(HUB_TRACER).startSpan(name, { kind: settings.kind, attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/**
 * Runs `work` in the span `name` (openSpan): the span is active while it runs, so what it sends
 * carries it; a throw is recorded on it (and rethrown); it ends when `work` settles.
 */
export async function inSpan<T>(name: string, settings: SpanSettings, work: (span: Span) => Promise<T>): Promise<T> {
  const open = openSpan(name, settings);
  if (!open) return work(NOT_RECORDED);
  try {
    return await context.with(open.context, () => work(open.span));
  } catch (error) {
    recordFailure(open.span, error);
    throw error;
  } finally {
    open.span.end();
  }
}

/**
 * Runs `fn` with `open` active, and binds `emitters` to it, so that their listeners (a request's
 * body being read, its end) run in it too: for a span that outlives `fn` and is ended by the caller.
 */
export function runWithin<T>(open: OpenSpan, fn: () => T, emitters: readonly EventEmitter[] = []): T {
  for (const emitter of emitters) context.bind(open.context, emitter);
  return context.with(open.context, fn);
}

/** Ends a span opened with openSpan, recording `error` when there is one. */
export function endSpan(open: OpenSpan | null, error?: unknown): void {
  if (!open) return;
  if (error) recordFailure(open.span, error);
  open.span.end();
}

/**
 * Marks the span failed: status ERROR with the error's message (cut short), `error.type` (its code,
 * such as a HubError's `not_found`, or its name, unless `type` is given) and an exception event
 * without the stack.
 */
export function recordFailure(span: Span, error: unknown, type?: string): void {
  const failure = error instanceof Error ? error : new Error(String(error));
  const message = failure.message.slice(0, 300);
  const code = (failure as { code?: unknown }).code;
  span.recordException({ name: failure.name, message });
  span.setAttribute(SPAN_ATTRIBUTES.errorType, type ?? (typeof code === 'string' || typeof code === 'number' ? String(code) : failure.name));
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** The attributes of a NATS message's span: its subject, and what is done with it (send, process…). */
export function messagingAttributes(subject: string, operation: 'send' | 'process'): Attributes {
  return {
    [SPAN_ATTRIBUTES.messagingSystem]: 'nats',
    [SPAN_ATTRIBUTES.messagingDestination]: subject,
    [SPAN_ATTRIBUTES.messagingOperation]: operation,
  };
}

/**
 * The session and orchestration a message is about, from its top-level `sessionId` and
 * `orchestrationId` (an event's data, a request): ids only, and only when they are ids (UUIDs).
 */
export function idAttributes(value: unknown): Attributes {
  if (typeof value !== 'object' || value === null) return {};
  const { sessionId, orchestrationId } = value as { sessionId?: unknown; orchestrationId?: unknown };
  const attributes: Attributes = {};
  if (isId(sessionId)) attributes[SPAN_ATTRIBUTES.sessionId] = sessionId;
  if (isId(orchestrationId)) attributes[SPAN_ATTRIBUTES.orchestrationId] = orchestrationId;
  return attributes;
}

const isId = (value: unknown): value is string => typeof value === 'string' && SESSION_OR_ORCHESTRATION_ID.test(value);
