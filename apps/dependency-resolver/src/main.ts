import 'reflect-metadata';
import { CommonConfigSchema, createLogger, installProcessHandlers, loadConfig } from '@hub/config';
import { connectNats, runService } from '@hub/messaging';
import { startTracing } from '@hub/tracing';
import { DEPENDENCY_RESOLVER_SUBJECTS, DependencyResolverModule } from './dependency-resolver.module';

const SERVICE = 'dependency-resolver';

async function main() {
  const config = loadConfig(CommonConfigSchema);
  const logger = createLogger(SERVICE, config.LOG_LEVEL);
  // A stray rejection is logged and the service goes on; an uncaught exception exits 1 and the stack restarts it.
  installProcessHandlers(logger);
  startTracing(SERVICE, { logger });
  const nc = await connectNats(config.NATS_URL, SERVICE, logger, { user: config.NATS_USER, password: config.NATS_PASSWORD });
  await runService({
    service: SERVICE,
    nc,
    logger,
    metrics: { port: config.HUB_METRICS_PORT, host: config.HUB_METRICS_HOST },
    module: DependencyResolverModule.forRoot(nc, logger),
    ...DEPENDENCY_RESOLVER_SUBJECTS,
  });
}

main().catch((error) => {
  createLogger(SERVICE).fatal({ err: error }, `${SERVICE} failed to start: ${(error as Error).message}`);
  process.exit(1);
});
