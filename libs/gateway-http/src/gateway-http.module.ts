import { DynamicModule, Module } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { HubLogger } from '@hub/config';
import { MessagingModule, OutputStore } from '@hub/messaging';
import { GATEWAY_LOGGER } from './gateway-http.tokens';
import { Readiness } from './readiness.service';
import { SessionFiles } from './session-files.service';
import { OrchestrationViews } from './orchestration-views.service';
import { ClaudeHubWebhook } from './claude-hub/claude-hub-webhook.service';

/** What the gateway's controllers use: the RPC client (via MessagingModule), session files, readiness. */
@Module({})
export class GatewayHttpModule {
  static forRoot(nc: NatsConnection, logger: HubLogger): DynamicModule {
    return {
      module: GatewayHttpModule,
      imports: [MessagingModule.forConnection(nc)],
      providers: [
        { provide: GATEWAY_LOGGER, useValue: logger },
        { provide: OutputStore, useValue: new OutputStore(nc) },
        SessionFiles,
        Readiness,
        OrchestrationViews,
        ClaudeHubWebhook,
      ],
      exports: [MessagingModule, GATEWAY_LOGGER, SessionFiles, Readiness, OrchestrationViews, ClaudeHubWebhook],
    };
  }
}
