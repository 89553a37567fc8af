import { DynamicModule, Module } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { HubLogger } from '@hub/config';
import { EVENTS, ImagePolicy, rpcSubjectsAnsweredBy } from '@hub/contracts';
import { MessagingModule, ServiceDefinition } from '@hub/messaging';
import { loadSessionTemplates, RegistryModule } from '@hub/registry';
import { OrchestrationCommandsController } from './orchestration-commands.controller';
import { RegistryConfig } from './registry.config';
import { RegistryHealthController } from './registry-health.controller';
import { SessionCommandsController } from './session-commands.controller';
import { SessionEventsController } from './session-events.controller';
import { OrchestrationEventsController } from './orchestration-events.controller';

/** What the session-registry takes work from: runService binds each subject and checks it has exactly one handler. */
export const SESSION_REGISTRY_SUBJECTS = {
  events: [EVENTS.depsResolved, EVENTS.depsFailed, EVENTS.containerStarted, EVENTS.containerExited, EVENTS.orchestrationResult],
  rpc: rpcSubjectsAnsweredBy('session-registry'),
} satisfies Pick<ServiceDefinition, 'events' | 'rpc'>;

/** The session-registry: its handlers, over the registry's use cases, on the service's NATS connection and database. */
@Module({
  controllers: [
    SessionCommandsController,
    OrchestrationCommandsController,
    SessionEventsController,
    OrchestrationEventsController,
    RegistryHealthController,
  ],
})
export class SessionRegistryModule {
  static forRoot(nc: NatsConnection, logger: HubLogger, dataSource: DataSource, config: RegistryConfig): DynamicModule {
    return {
      module: SessionRegistryModule,
      imports: [
        MessagingModule.forConnection(nc),
        RegistryModule.forRoot(
          dataSource,
          {
            defaultImage: config.HUB_DEFAULT_IMAGE,
            imagePolicy: new ImagePolicy(config.HUB_ALLOWED_IMAGES),
            egressPolicy: config.HUB_EGRESS,
            templates: loadSessionTemplates(config.HUB_SESSION_TYPES_FILE),
            defaultTimeoutSeconds: config.HUB_DEFAULT_TIMEOUT_SECONDS,
            retryBackoffMs: config.HUB_RETRY_BACKOFF_MS,
          },
          logger,
        ),
      ],
    };
  }
}
