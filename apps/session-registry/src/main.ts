import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { createLogger, installProcessHandlers, loadConfig } from '@hub/config';
import { EVENTS, RPC } from '@hub/contracts';
import { connectNats, MessagingModule, runService } from '@hub/messaging';
import { openDatabase } from '@hub/persistence';
import { classifyRegistryError, ExpireOverdueSessions, loadSessionTemplates, OutboxRelay, RegistryModule } from '@hub/registry';
import { RegistryConfigSchema } from './registry.config';
import { RegistryHealthController } from './registry-health.controller';
import { SessionCommandsController } from './session-commands.controller';
import { OrchestrationCommandsController } from './orchestration-commands.controller';
import { SessionEventsController } from './session-events.controller';

const SERVICE = 'session-registry';

@Module({
  controllers: [SessionCommandsController, OrchestrationCommandsController, SessionEventsController, RegistryHealthController],
})
class SessionRegistryAppModule {}

async function main() {
  const config = loadConfig(RegistryConfigSchema);
  const logger = createLogger(SERVICE, config.LOG_LEVEL);
  // A stray rejection is logged and the service goes on; an uncaught exception exits 1 and the stack restarts it.
  installProcessHandlers(logger);
  const dataSource = await openDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  logger.info('database ready, migrations applied');
  const nc = await connectNats(config.NATS_URL, SERVICE, logger);
  const app = await runService({
    service: SERVICE,
    nc,
    logger,
    module: {
      module: SessionRegistryAppModule,
      imports: [
        MessagingModule.forConnection(nc),
        RegistryModule.forRoot(
          dataSource,
          {
            defaultImage: config.HUB_DEFAULT_IMAGE,
            templates: loadSessionTemplates(config.HUB_SESSION_TYPES_FILE),
            defaultTimeoutSeconds: config.HUB_DEFAULT_TIMEOUT_SECONDS,
            retryBackoffMs: config.HUB_RETRY_BACKOFF_MS,
          },
          logger,
        ),
      ],
    },
    events: [EVENTS.depsResolved, EVENTS.depsFailed, EVENTS.containerStarted, EVENTS.containerExited],
    rpc: [
      RPC.createSession,
      RPC.startSession,
      RPC.cancelSession,
      RPC.claimSession,
      RPC.heldSessions,
      RPC.waitingSessions,
      RPC.getSession,
      RPC.listSessions,
      RPC.getSessionOutput,
      RPC.sessionStatuses,
      RPC.sessionDependents,
      RPC.createOrchestration,
      RPC.startOrchestration,
      RPC.cancelOrchestration,
      RPC.getOrchestration,
      RPC.listOrchestrations,
      RPC.registryHealth,
    ],
    classifyError: classifyRegistryError,
    onStop: () => dataSource.destroy(),
  });
  app.get(OutboxRelay).start();
  app.get(ExpireOverdueSessions).start();
}

main().catch((error) => {
  createLogger(SERVICE).fatal({ err: error }, `${SERVICE} failed to start: ${(error as Error).message}`);
  process.exit(1);
});
