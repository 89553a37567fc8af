import { setTimeout as sleep } from 'node:timers/promises';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { ConfigError } from '@hub/config';
import { startTracing, stopTracing, tracingEnabled } from './hub-tracing';
import { inSpan, openSpan, endSpan, SpanKind, SPAN_ATTRIBUTES, idAttributes, messagingAttributes } from './spans';
import { contextOf, extractTraceContext, type HeaderCarrier, injectTraceContext, traceContextOf } from './trace-context';

// Tracing as a service sets it up, its spans caught by an in-memory exporter: context carried in
// message headers from a publisher to a handler, stored and taken up again (the outbox), and off
// (no endpoint) costing nothing.

const SESSION_ID = '3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7';

/** Message headers as NATS's MsgHdrs behave: '' for a header not there. */
class Headers implements HeaderCarrier {
  readonly values = new Map<string, string>();
  get(name: string): string {
    return this.values.get(name) ?? '';
  }
  set(name: string, value: string): void {
    this.values.set(name, value);
  }
}

const spanId = (span: ReadableSpan) => span.spanContext().spanId;
const traceId = (span: ReadableSpan) => span.spanContext().traceId;

describe('tracing', () => {
  afterEach(() => stopTracing());

  describe('on (spans to an in-memory exporter)', () => {
    let exporter: InMemorySpanExporter;
    const finished = (name: string) => {
      const span = exporter.getFinishedSpans().find((s) => s.name === name);
      if (!span) throw new Error(`no span ${name}: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`);
      return span;
    };

    beforeEach(() => {
      exporter = new InMemorySpanExporter();
      const tracing = startTracing('test', { exporter, env: {} });
      expect(tracing).toEqual({ enabled: true, serviceName: 'hub-test', exportsTo: null });
    });

    it('carries the active context through headers: the handler of a message is a child of its publisher', async () => {
      const headers = new Headers();
      await inSpan('POST /api/v1/sessions', { kind: SpanKind.SERVER, root: true }, async () => {
        await inSpan('publish session.ready', { kind: SpanKind.PRODUCER, attributes: messagingAttributes('session.ready', 'send') }, async () => {
          injectTraceContext(headers);
        });
      });
      expect(headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

      // Elsewhere (another process), with nothing active: the headers name the parent.
      await inSpan(
        'process session.ready',
        { kind: SpanKind.CONSUMER, parent: extractTraceContext(headers), attributes: idAttributes({ sessionId: SESSION_ID }) },
        async () => undefined,
      );

      const root = finished('POST /api/v1/sessions');
      const publish = finished('publish session.ready');
      const handle = finished('process session.ready');
      expect(root.parentSpanContext).toBeUndefined();
      expect(publish.parentSpanContext?.spanId).toBe(spanId(root));
      expect(handle.parentSpanContext).toMatchObject({ spanId: spanId(publish), isRemote: true });
      expect(new Set([traceId(root), traceId(publish), traceId(handle)]).size).toBe(1);
      expect([publish.kind, handle.kind]).toEqual([SpanKind.PRODUCER, SpanKind.CONSUMER]);
      expect(handle.attributes).toEqual({ [SPAN_ATTRIBUTES.sessionId]: SESSION_ID });
      expect(publish.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.destination.name': 'session.ready' });
      expect(handle.resource.attributes['service.name']).toBe('hub-test');
    });

    it('round-trips a context through headers: the same trace and span, marked remote', async () => {
      const headers = new Headers();
      let sent: { traceId: string; spanId: string } | undefined;
      await inSpan('send', { kind: SpanKind.CLIENT, root: true }, async (span) => {
        sent = span.spanContext();
        injectTraceContext(headers);
      });
      const open = openSpan('receive', { kind: SpanKind.SERVER, parent: extractTraceContext(headers) });
      endSpan(open);
      expect(open!.span.spanContext().traceId).toBe(sent!.traceId);
      expect(finished('receive').parentSpanContext).toMatchObject({ traceId: sent!.traceId, spanId: sent!.spanId, isRemote: true });
    });

    it('takes up a stored context again (the outbox relay), long after the span that stored it ended', async () => {
      let stored = traceContextOf();
      expect(stored).toBeNull();
      await inSpan('answer hub.registry.sessions.create', { kind: SpanKind.SERVER, root: true }, async () => {
        stored = JSON.parse(JSON.stringify(traceContextOf()));
      });
      expect(Object.keys(stored!)).toEqual(['traceparent']);

      await sleep(5);
      const relayed = openSpan('publish session.created', { kind: SpanKind.PRODUCER, parent: contextOf(stored) });
      endSpan(relayed);
      expect(finished('publish session.created').parentSpanContext?.spanId).toBe(spanId(finished('answer hub.registry.sessions.create')));
    });

    it('keeps the active span across awaits, timers and concurrent work', async () => {
      await Promise.all(
        ['a', 'b'].map((name) =>
          inSpan(`handle ${name}`, { kind: SpanKind.CONSUMER, root: true }, async () => {
            await sleep(name === 'a' ? 10 : 1);
            await new Promise<void>((resolve) => setImmediate(resolve));
            await inSpan(`request ${name}`, { kind: SpanKind.CLIENT }, async () => undefined);
          }),
        ),
      );
      for (const name of ['a', 'b']) expect(finished(`request ${name}`).parentSpanContext?.spanId).toBe(spanId(finished(`handle ${name}`)));
    });

    it('starts no span where there is no trace to continue, unless asked to start one', async () => {
      let ran = false;
      await inSpan('process deps.resolved', { kind: SpanKind.CONSUMER, parent: extractTraceContext(new Headers()) }, async (span) => {
        span.setAttribute('ignored', true);
        ran = true;
      });
      expect(ran).toBe(true);
      expect(openSpan('publish', { kind: SpanKind.PRODUCER })).toBeNull();
      expect(exporter.getFinishedSpans()).toEqual([]);
    });

    it('records a failure: status, error.type and the message, without the stack', async () => {
      const failure = Object.assign(new Error('session 42 not found'), { code: 'not_found' });
      await expect(inSpan('answer', { kind: SpanKind.SERVER, root: true }, async () => Promise.reject(failure))).rejects.toBe(failure);
      const span = finished('answer');
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'session 42 not found' });
      expect(span.attributes[SPAN_ATTRIBUTES.errorType]).toBe('not_found');
      expect(span.events.map((e) => e.attributes)).toEqual([{ 'exception.type': 'Error', 'exception.message': 'session 42 not found' }]);
    });

    it('takes only ids as attributes, never other values of a message', () => {
      expect(idAttributes({ sessionId: SESSION_ID, orchestrationId: 'not an id', prompt: 'secret' })).toEqual({ [SPAN_ATTRIBUTES.sessionId]: SESSION_ID });
      expect(idAttributes('x')).toEqual({});
    });
  });

  describe('off', () => {
    it('is off without an OTLP endpoint: no span, no context, nothing written to headers', async () => {
      expect(startTracing('gateway', { env: {} })).toEqual({ enabled: false, serviceName: 'hub-gateway', exportsTo: null });
      expect(tracingEnabled()).toBe(false);
      const headers = new Headers();
      const result = await inSpan('x', { kind: SpanKind.SERVER, root: true }, async (span) => {
        injectTraceContext(headers);
        return span.isRecording();
      });
      expect(result).toBe(false);
      expect(headers.values.size).toBe(0);
      expect(traceContextOf()).toBeNull();
    });

    it('is off when OTEL_SDK_DISABLED is true, whatever the endpoint', () => {
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' };
      expect(startTracing('gateway', { env }).enabled).toBe(false);
    });
  });

  describe('settings', () => {
    it('is on with an endpoint: traces to <endpoint>/v1/traces, or to the traces endpoint as given; OTEL_SERVICE_NAME names it', async () => {
      expect(startTracing('session-registry', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://user:pw@collector:4318/' } })).toEqual({
        enabled: true,
        serviceName: 'hub-session-registry',
        exportsTo: 'http://collector:4318/v1/traces',
      });
      await stopTracing();
      const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/otlp/traces', OTEL_SERVICE_NAME: 'registry-eu' };
      expect(startTracing('session-registry', { env })).toMatchObject({ serviceName: 'registry-eu', exportsTo: 'https://collector/otlp/traces' });
    });

    it('stops the service, naming the variable, on an endpoint or protocol it cannot use', () => {
      expect(() => startTracing('gateway', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' } })).toThrow(ConfigError);
      expect(() => startTracing('gateway', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' } })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
      const grpc = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' };
      expect(() => startTracing('gateway', { env: grpc })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: .*http\/json/);
    });

    it('starts once', () => {
      startTracing('gateway', { exporter: new InMemorySpanExporter(), env: {} });
      expect(() => startTracing('gateway', { env: {} })).toThrow(/started already/);
    });
  });
});
