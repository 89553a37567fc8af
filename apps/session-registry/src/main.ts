import 'reflect-metadata';
import { createLogger, installProcessHandlers, loadConfig } from '@hub/config';
import { connectNats, runService } from '@hub/messaging';
import { openDatabase } from '@hub/persistence';
import { classifyRegistryError, loadApiKeyPepper } from '@hub/registry';
import { startTracing } from '@hub/tracing';
import { RegistryConfigSchema } from './registry.config';
import { SESSION_REGISTRY_SUBJECTS, SessionRegistryModule } from './session-registry.module';

const SERVICE = 'session-registry';

async function main() {
  const config = loadConfig(RegistryConfigSchema);
  const logger = createLogger(SERVICE, config.LOG_LEVEL);
  // A stray rejection is logged and the service goes on; an uncaught exception exits 1 and the stack restarts it.
  installProcessHandlers(logger);
  startTracing(SERVICE, { logger });
  const apiKeyPepper = await loadApiKeyPepper({ configured: config.HUB_API_KEY_PEPPER, stateDir: config.HUB_STATE_DIR, logger });
  const dataSource = await openDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  logger.info('database ready, migrations applied');
  const nc = await connectNats(config.NATS_URL, SERVICE, logger, { user: config.NATS_USER, password: config.NATS_PASSWORD });
  await runService({
    service: SERVICE,
    nc,
    logger,
    metrics: { port: config.HUB_METRICS_PORT, host: config.HUB_METRICS_HOST },
    module: SessionRegistryModule.forRoot(nc, logger, dataSource, config, apiKeyPepper),
    ...SESSION_REGISTRY_SUBJECTS,
    classifyError: classifyRegistryError,
    onStop: () => dataSource.destroy(),
  });
}

main().catch((error) => {
  createLogger(SERVICE).fatal({ err: error }, `${SERVICE} failed to start: ${(error as Error).message}`);
  process.exit(1);
});
