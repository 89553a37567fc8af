import 'reflect-metadata';
import { createLogger, installProcessHandlers, loadConfig, signalReady } from '@hub/config';
import { createGatewayHttpApp, loadApiToken } from '@hub/gateway-http';
import { connectNats } from '@hub/messaging';
import { startMetricsListener } from '@hub/metrics';
import { startTracing, stopTracing } from '@hub/tracing';
import { GatewayConfigSchema } from './gateway.config';
import { GatewayModule } from './gateway.module';

const SERVICE = 'gateway';

async function main() {
  const config = loadConfig(GatewayConfigSchema);
  const logger = createLogger(SERVICE, config.LOG_LEVEL);
  // A stray rejection is logged and the service goes on; an uncaught exception exits 1 and the stack restarts it.
  installProcessHandlers(logger);
  startTracing(SERVICE, { logger });
  const { token } = await loadApiToken({ configured: config.HUB_API_TOKEN, stateDir: config.HUB_STATE_DIR, logger });
  const nc = await connectNats(config.NATS_URL, SERVICE, logger, { user: config.NATS_USER, password: config.NATS_PASSWORD });
  const app = await createGatewayHttpApp(GatewayModule.forRoot(nc, logger, { stateDir: config.HUB_STATE_DIR }), {
    apiToken: token,
    maxBodyBytes: config.HUB_MAX_BODY_BYTES,
    logger,
    claudeWebhook: config.CLAUDE_WEBHOOK_SECRET ? { secret: config.CLAUDE_WEBHOOK_SECRET, tenant: config.HUB_CLAUDE_WEBHOOK_TENANT } : undefined,
    tenantRates: config.HUB_TENANT_REQUESTS_PER_MINUTE,
  });
  await app.listen(config.HUB_PORT, config.HUB_HOST);
  const { port } = app.getHttpServer().address() as { port: number };
  logger.info(`gateway listening on http://${config.HUB_HOST}:${port}`);
  // /metrics is on the gateway's port; HUB_METRICS_PORT serves it on one of its own too.
  const metrics = await startMetricsListener({ port: config.HUB_METRICS_PORT, host: config.HUB_METRICS_HOST, logger });
  signalReady();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'gateway stopping');
    await app.close();
    await metrics?.close();
    await stopTracing();
    await nc.drain().catch(() => undefined);
    logger.info('gateway stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  createLogger(SERVICE).fatal({ err: error }, `${SERVICE} failed to start: ${(error as Error).message}`);
  process.exit(1);
});
