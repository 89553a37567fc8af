import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { HubLogger } from '@hub/config';
import { EVENTS, ImagePolicy, rpcSubjectsAnsweredBy } from '@hub/contracts';
import { MessagingModule, ServiceDefinition } from '@hub/messaging';
import { ApiKeysModule, AuditModule, loadSessionTemplates, loadTenantPolicies, RegistryModule } from '@hub/registry';
import { loadWebhooks, NOTIFICATION_SOURCES, NotificationSettings, NotificationsModule } from '@hub/notifications';
import { OrchestrationCommandsController } from './orchestration-commands.controller';
import { RegistryConfig } from './registry.config';
import { RegistryHealthController } from './registry-health.controller';
import { SessionCommandsController } from './session-commands.controller';
import { SessionEventsController } from './session-events.controller';
import { OrchestrationEventsController } from './orchestration-events.controller';
import { NotificationsController } from './notifications.controller';
import { ApiKeysController } from './api-keys.controller';
import { AuditController } from './audit.controller';
import { RunnersController } from './runners.controller';
import { AuditInterceptor } from './audit.interceptor';
import { CallerScopeGuard } from './caller-scope.guard';

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
    ApiKeysController,
    AuditController,
    RunnersController,
  ],
})
export class SessionRegistryModule {
  /** `apiKeyPepper`: what API keys' secrets are hashed with (loadApiKeyPepper, before the module is made). */
  static forRoot(nc: NatsConnection, logger: HubLogger, dataSource: DataSource, config: RegistryConfig, apiKeyPepper: string): DynamicModule {
    return {
      module: SessionRegistryModule,
      providers: [
        // Every request: its caller's scope first, then, for the writes that succeeded, the audit log.
        { provide: APP_GUARD, useClass: CallerScopeGuard },
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
      ],
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
            tenants: loadTenantPolicies(config),
            retryBackoffMs: config.HUB_RETRY_BACKOFF_MS,
            retention: { days: config.HUB_RETENTION_DAYS, eventsMaxAgeDays: config.HUB_EVENTS_MAX_AGE_DAYS },
            leaseGraceSeconds: config.HUB_RUNNER_LEASE_GRACE_SECONDS,
          },
          logger,
        ),
        NotificationsModule.forRoot(dataSource, notificationSettings(config, logger), logger),
        ApiKeysModule.forRoot(dataSource, { pepper: apiKeyPepper }),
        AuditModule.forRoot(dataSource),
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
