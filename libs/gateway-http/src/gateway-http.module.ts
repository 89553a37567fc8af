import { DynamicModule, Module } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { HubApi } from '@hub/hub-api';
import { MessagingModule, OutputStore } from '@hub/messaging';
import { Readiness } from './readiness.service';
import { SessionFiles } from './session-files.service';
import { NatsHubApi } from './nats-hub-api';
import { ClaudeHubWebhook } from './claude-hub/claude-hub-webhook.service';

/**
 * What the gateway's entrances use: HubApi (its NATS implementation, over the RPC client, the
 * object store and readiness) and the claude-hub mapping on top of it. Nothing else is exported:
 * an entrance reaches Hub through the port only.
 */
@Module({})
export class GatewayHttpModule {
  static forRoot(nc: NatsConnection, logger: HubLogger): DynamicModule {
    return {
      module: GatewayHttpModule,
      imports: [MessagingModule.forConnection(nc)],
      providers: [
        { provide: HUB_LOGGER, useValue: logger },
        { provide: OutputStore, useValue: new OutputStore(nc) },
        SessionFiles,
        Readiness,
        NatsHubApi,
        { provide: HubApi, useExisting: NatsHubApi },
        ClaudeHubWebhook,
      ],
      exports: [HUB_LOGGER, HubApi, ClaudeHubWebhook],
    };
  }
}
