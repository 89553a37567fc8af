import { resolve } from 'node:path';
import { DynamicModule, Module } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { HubApi } from '@hub/hub-api';
import { EventWaiters, LiveLogStream, MessagingModule, OutputStore } from '@hub/messaging';
import { Readiness } from './readiness.service';
import { SessionFiles } from './session-files.service';
import { LiveSessionLogs } from './logs/live-session-logs.service';
import { NatsHubApi } from './nats-hub-api';
import { CallerRpc } from './auth/caller-context';
import { ClaudeHubWebhook } from './claude-hub/claude-hub-webhook.service';
import { GIT_REPOSITORIES_DIR } from './gateway-http.tokens';
import { GitHttpBackend } from './git/git-http-backend';
import { GitSmartHttp } from './git/git-smart-http';
import { OrchestrationRepositories } from './git/orchestration-repositories';
import { OrchestrationFiles } from './orchestration-files.service';
import { LIVE_EVENTS_OPTIONS, LiveEvents, LiveEventsOptions } from './events/live-events.service';

export interface GatewayHttpModuleOptions {
  /** The gateway's state directory (HUB_STATE_DIR): the repositories `git fetch` is served from are in its `git/`. */
  stateDir: string;
  /** `GET /api/v1/events` (its heartbeat, shortened in tests). */
  liveEvents?: LiveEventsOptions;
}

/**
 * What the gateway's entrances use: HubApi (its NATS implementation, over the RPC client, the
 * object store and readiness), the claude-hub mapping on top of it, and LiveEvents (the event
 * stream of `GET /api/v1/events`, read from JetStream: a stream, which the port's requests are not).
 * Nothing else is exported: an entrance reaches Hub through these only. GitSmartHttp (`git fetch` from Hub) is taken from
 * the app by createGatewayHttpApp, which mounts it before the body parser.
 */
@Module({})
export class GatewayHttpModule {
  static forRoot(nc: NatsConnection, logger: HubLogger, options: GatewayHttpModuleOptions): DynamicModule {
    return {
      module: GatewayHttpModule,
      imports: [MessagingModule.forConnection(nc)],
      providers: [
        { provide: HUB_LOGGER, useValue: logger },
        { provide: OutputStore, useValue: new OutputStore(nc) },
        { provide: LiveLogStream, useValue: new LiveLogStream(nc) },
        { provide: GIT_REPOSITORIES_DIR, useValue: resolve(options.stateDir, 'git') },
        CallerRpc,
        SessionFiles,
        LiveSessionLogs,
        OrchestrationFiles,
        Readiness,
        NatsHubApi,
        { provide: HubApi, useExisting: NatsHubApi },
        ClaudeHubWebhook,
        OrchestrationRepositories,
        GitHttpBackend,
        GitSmartHttp,
        EventWaiters,
        { provide: LIVE_EVENTS_OPTIONS, useValue: options.liveEvents ?? {} },
        LiveEvents,
      ],
      exports: [HUB_LOGGER, HubApi, ClaudeHubWebhook, LiveEvents],
    };
  }
}
