import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { CommonConfigSchema, createLogger, installProcessHandlers, loadConfig } from '@hub/config';
import { EVENTS, RPC } from '@hub/contracts';
import { connectNats, MessagingModule, runService } from '@hub/messaging';
import { RESOLVER_LOGGER, ResolveDependencies } from '@hub/resolver';
import { DependencyEventsController } from './dependency-events.controller';
import { ResolverHealthController } from './resolver-health.controller';

const SERVICE = 'dependency-resolver';

@Module({ controllers: [DependencyEventsController, ResolverHealthController] })
class DependencyResolverAppModule {}

async function main() {
  const config = loadConfig(CommonConfigSchema);
  const logger = createLogger(SERVICE, config.LOG_LEVEL);
  // A stray rejection is logged and the service goes on; an uncaught exception exits 1 and the stack restarts it.
  installProcessHandlers(logger);
  const nc = await connectNats(config.NATS_URL, SERVICE, logger);
  const app = await runService({
    service: SERVICE,
    nc,
    logger,
    module: {
      module: DependencyResolverAppModule,
      imports: [MessagingModule.forConnection(nc)],
      providers: [ResolveDependencies, { provide: RESOLVER_LOGGER, useValue: logger }],
    },
    events: [EVENTS.sessionStartRequested, EVENTS.sessionStatusChanged],
    rpc: [RPC.resolverHealth],
  });
  // Re-decide waiting sessions at start and every 30 s, in case an event was ever missed.
  const resolver = app.get(ResolveDependencies);
  const recheck = () =>
    resolver.recheckWaiting().catch((error) => logger.warn({ err: (error as Error).message }, 're-check of waiting sessions failed'));
  void recheck();
  setInterval(recheck, 30_000).unref();
}

main().catch((error) => {
  createLogger(SERVICE).fatal({ err: error }, `${SERVICE} failed to start: ${(error as Error).message}`);
  process.exit(1);
});
