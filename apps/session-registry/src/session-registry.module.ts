import { DynamicModule, Module } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { HubLogger } from '@hub/config';
import { EVENTS, ImagePolicy, rpcSubjectsAnsweredBy } from '@hub/contracts';
import { MessagingModule, ServiceDefinition } from '@hub/messaging';
import { loadSessionTemplates, RegistryModule } from '@hub/registry';
import { loadWebhooks, NOTIFICATION_SOURCES, NotificationSettings, NotificationsModule } from '@hub/notifications';
import { OrchestrationCommandsController } from './orchestration-commands.controller';
import { RegistryConfig } from './registry.config';
import { RegistryHealthController } from './registry-health.controller';
import { SessionCommandsController } from './session-commands.controller';
import { SessionEventsController } from './session-events.controller';
import { OrchestrationEventsController } from './orchestration-events.controller';
import { NotificationsController } from './notifications.controller';

/** What the session-registry takes work from: runService binds each subject and checks it has exactly one handler. */
export const SESSION_REGISTRY_SUBJECTS = {
  events: [
    EVENTS.depsResolved,
    EVENTS.depsFailed,
    EVENTS.containerStarted,
    EVENTS.containerExited,
    EVENTS.orchestrationResult,
    ...NOTIFICATION_SOURCES,
  ],
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
    NotificationsController,
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
        NotificationsModule.forRoot(dataSource, notificationSettings(config, logger), logger),
      ],
    };
  }
}

/** The operator's webhooks: invalid ones stop the registry here, with a message naming the problem. */
function notificationSettings(config: RegistryConfig, logger: HubLogger): NotificationSettings {
  const { webhooks, warnings } = loadWebhooks(config);
  for (const warning of warnings) logger.warn(warning);
  if (webhooks.length) logger.info({ webhooks: webhooks.map(({ name, events, format }) => ({ name, events, format })) }, 'webhooks configured');
  return { webhooks, maxAttempts: config.HUB_WEBHOOK_MAX_ATTEMPTS };
}
