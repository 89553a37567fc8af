import { DynamicModule, Module } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { HubLogger } from '@hub/config';
import { GatewayHttpModule, GatewayHttpModuleOptions } from '@hub/gateway-http';
import { HealthController } from './health.controller';
import { SessionsController } from './sessions.controller';
import { OrchestrationsController } from './orchestrations.controller';
import { ClaudeHubWebhookController } from './claude-hub-webhook.controller';
import { McpController } from './mcp.controller';
import { EventsController } from './events.controller';
import { NotificationsController } from './notifications.controller';
import { KeysController } from './keys.controller';
import { AuditController } from './audit.controller';
import { UsageController } from './usage.controller';
import { RunnersController } from './runners.controller';

@Module({
  controllers: [
    SessionsController,
    OrchestrationsController,
    EventsController,
    NotificationsController,
    KeysController,
    AuditController,
    UsageController,
    RunnersController,
    HealthController,
    ClaudeHubWebhookController,
    McpController,
  ],
})
export class GatewayModule {
  static forRoot(nc: NatsConnection, logger: HubLogger, options: GatewayHttpModuleOptions): DynamicModule {
    return { module: GatewayModule, imports: [GatewayHttpModule.forRoot(nc, logger, options)] };
  }
}
