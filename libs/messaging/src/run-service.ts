import { DynamicModule, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NatsConnection } from 'nats';
import { HubLogger, PinoNestLogger, signalReady } from '@hub/config';
import { HubError } from '@hub/contracts';
import { MetricsListenerSettings, startMetricsListener } from '@hub/metrics';
import { stopTracing } from '@hub/tracing';
import { CapacityGate, JetStreamServer, RethrowRpcErrors } from './jetstream.server';
import { EventSubject, RpcSubject } from '@hub/contracts';

export interface ServiceDefinition {
  service: string;
  nc: NatsConnection;
  logger: HubLogger;
  module: DynamicModule;
  events: readonly EventSubject[];
  rpc: readonly RpcSubject[];
  gated?: Partial<Record<EventSubject, CapacityGate>>;
  sharedDurables?: Partial<Record<EventSubject, string>>;
  classifyError?: (error: unknown) => HubError | undefined;
  /** Where it answers `GET /metrics` (HUB_METRICS_PORT, HUB_METRICS_HOST); no port: nowhere. */
  metrics?: MetricsListenerSettings;
  /** Runs when the service is asked to stop, before its NATS connection drains. */
  onStop?: () => Promise<void>;
}

/**
 * Starts a service that talks only over NATS: its handlers bound by JetStreamServer and its metrics
 * listener (when given a port), then tells the stack's supervisor it is ready (signalReady); graceful
 * stop on SIGTERM/SIGINT (stop taking work, let handlers in flight finish, send the last spans
 * (stopTracing; main.ts started tracing), drain the connection). Its modules' periodic work starts and stops
 * with the application (OnApplicationBootstrap/OnApplicationShutdown), never by hand.
 */
export async function runService(definition: ServiceDefinition): Promise<INestMicroservice> {
  const { service, nc, logger } = definition;
  const app = await NestFactory.createMicroservice(definition.module, {
    strategy: new JetStreamServer({
      service,
      nc,
      logger,
      events: definition.events,
      rpc: definition.rpc,
      gated: definition.gated,
      sharedDurables: definition.sharedDurables,
      classifyError: definition.classifyError,
    }),
    logger: new PinoNestLogger(logger),
  });
  app.useGlobalFilters(new RethrowRpcErrors());
  await app.listen();
  const metrics = await startMetricsListener({ ...definition.metrics, logger });
  logger.info({ events: definition.events, rpc: definition.rpc }, `${service} started`);
  signalReady();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${service} stopping`);
    await app.close();
    await metrics?.close();
    await definition.onStop?.();
    await stopTracing();
    await nc.drain().catch(() => undefined);
    logger.info(`${service} stopped`);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return app;
}
