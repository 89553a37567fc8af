import { context, diag, DiagLogLevel, propagation, trace, type DiagLogger } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { z } from 'zod';
import { booleanFromEnv, type HubLogger, loadConfig } from '@hub/config';

/** Every service's name in its traces is `hub-<service>` (hub-gateway, hub-session-registry, …) unless OTEL_SERVICE_NAME says otherwise. */
export const SERVICE_NAME_PREFIX = 'hub-';

/** The resource attribute naming one instance of a service (a runner's id). */
const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';

/** How long a stopping service waits for its last spans to leave: it must not outlive its stop grace for them. */
const SHUTDOWN_TIMEOUT_MS = 2_000;

/** The exporter's own complaints (a collector that cannot be reached) reach the log at most this often. */
const DIAG_LOG_INTERVAL_MS = 60_000;

const otlpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const otlpProtocol = z.enum(['http/json'], {
  error: "Hub exports OTLP over HTTP as JSON: only 'http/json' (a collector's HTTP port, 4318, takes it)",
});

/**
 * The standard OpenTelemetry variables tracing reads. Tracing is on when an endpoint is set (and
 * OTEL_SDK_DISABLED is not true); a malformed one stops the service, naming it, as any other variable does.
 * The exporter also reads OTEL_EXPORTER_OTLP_HEADERS, …_TIMEOUT, …_COMPRESSION and the certificate
 * variables itself (their values are never logged).
 */
export const TracingConfigSchema = z.object({
  /** The collector's base URL; traces go to `<it>/v1/traces`. */
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl.optional(),
  /** The full URL traces go to (wins over OTEL_EXPORTER_OTLP_ENDPOINT). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  /** Replaces `hub-<service>` as the resource's service.name. */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_SDK_DISABLED: booleanFromEnv.default(false),
  /** How often finished spans are sent, in ms. */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(1).default(5_000),
});

export interface TracingOptions {
  logger?: HubLogger;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The resource's service.instance.id (a runner's HUB_RUNNER_ID). */
  instanceId?: string;
  /** For tests: every span goes to this exporter as it ends, whatever the environment says. */
  exporter?: SpanExporter;
}

export interface Tracing {
  enabled: boolean;
  /** The resource's service.name. */
  serviceName: string;
  /** Where spans go (null when tracing is off, or they go to a test's exporter). */
  exportsTo: string | null;
}

let provider: TracerProvider | null = null;

/** Whether this process records spans (startTracing turned it on). */
export function tracingEnabled(): boolean {
  return provider !== null;
}

/**
 * Sets up tracing for this process, once, before Nest boots: W3C trace context, the active context
 * kept across awaits (AsyncLocalStorage), and spans sent in batches over OTLP/HTTP (JSON) with the
 * resource service.name `hub-<service>`. With no OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT it sets up
 * nothing: the OpenTelemetry API stays its no-op self and Hub's span helpers return at once.
 */
export function startTracing(service: string, options: TracingOptions = {}): Tracing {
  if (provider) throw new Error('tracing is started already: startTracing runs once, at process start');
  const config = loadConfig(TracingConfigSchema, options.env ?? process.env);
  const serviceName = config.OTEL_SERVICE_NAME ?? `${SERVICE_NAME_PREFIX}${service}`;
  const url = config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? tracesUrlUnder(config.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (!options.exporter && (!url || config.OTEL_SDK_DISABLED)) return { enabled: false, serviceName, exportsTo: null };

  const processor = options.exporter
    ? new SimpleSpanProcessor({ exporter: options.exporter })
    : new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }), scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY });
  provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName,
      ...(options.instanceId ? { [ATTR_SERVICE_INSTANCE_ID]: options.instanceId } : {}),
    }),
    spanProcessors: [processor],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  if (options.logger) diag.setLogger(throttledDiagLogger(options.logger), DiagLogLevel.WARN);
  const exportsTo = options.exporter ? null : withoutCredentials(url!);
  options.logger?.info({ serviceName, exportsTo }, 'tracing on: spans exported over OTLP/HTTP');
  return { enabled: true, serviceName, exportsTo };
}

/**
 * Sends the spans not sent yet and turns tracing off (a stopping service; a test). Waits at most
 * SHUTDOWN_TIMEOUT_MS: a collector that does not answer does not hold the stop. Nothing to do when off.
 */
export async function stopTracing(): Promise<void> {
  const stopping = provider;
  if (!stopping) return;
  provider = null;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS);
  });
  await Promise.race([stopping.shutdown().catch(() => undefined), timeout]);
  clearTimeout(timer);
  trace.disable();
  propagation.disable();
  context.disable();
  diag.disable();
}

/** `<endpoint>/v1/traces`, as the OTLP specification builds it from OTEL_EXPORTER_OTLP_ENDPOINT. */
function tracesUrlUnder(endpoint: string | undefined): string | undefined {
  return endpoint === undefined ? undefined : `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/** The URL as a log line may show it: without a user or password. */
function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/** OpenTelemetry's own warnings (an export that failed) in the service's log, one line a minute at most. */
function throttledDiagLogger(logger: HubLogger): DiagLogger {
  let lastAt = 0;
  let suppressed = 0;
  const log = (message: string) => {
    const now = Date.now();
    if (now - lastAt < DIAG_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    logger.warn({ suppressed }, `tracing: ${message.slice(0, 500)}`);
    lastAt = now;
    suppressed = 0;
  };
  const ignore = () => undefined;
  return { error: log, warn: log, info: ignore, debug: ignore, verbose: ignore };
}
