import { DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { NATS_CONNECTION, RunnerHeartbeats } from '@hub/messaging';
import type { NatsConnection } from 'nats';
import { OutboxRelay } from './outbox/outbox-relay';
import { REGISTRY_SETTINGS, RegistrySettings } from './registry.tokens';
import { CancelSession } from './sessions/cancel-session.use-case';
import { ClaimSession } from './sessions/claim-session.use-case';
import { CreateSession } from './sessions/create-session.use-case';
import { RecordContainerOutcome } from './sessions/record-container-outcome.use-case';
import { RecordDependencyOutcome } from './sessions/record-dependency-outcome.use-case';
import { SessionQueries } from './sessions/session-queries';
import { SessionTransitions } from './sessions/session-transitions';
import { StartSession } from './sessions/start-session.use-case';
import { RerunSession } from './sessions/rerun-session.use-case';
import { SessionStore } from './store/session-store';
import { OrchestrationReads } from './store/orchestration-reads';
import { ReadyDispatch } from './sessions/ready-dispatch';
import { OrchestrationCompletion } from './orchestrations/orchestration-completion';
import { RecordOrchestrationResult } from './orchestrations/record-orchestration-result.use-case';
import { ExpireOverdueSessions } from './sessions/expire-overdue-sessions';
import { CreateOrchestration } from './orchestrations/create-orchestration.use-case';
import { StartOrchestration } from './orchestrations/start-orchestration.use-case';
import { CancelOrchestration } from './orchestrations/cancel-orchestration.use-case';
import { RetryOrchestration } from './orchestrations/retry-orchestration.use-case';
import { OrchestrationQueries } from './orchestrations/orchestration-queries';
import { ContinueSession } from './sessions/continue-session.use-case';
import { RecordUsage } from './budgets/record-usage';
import { UpdateOrchestrationBudget } from './budgets/update-orchestration-budget.use-case';
import { UsageQueries } from './usage/usage-queries';
import { DeleteSession } from './sessions/delete-session.use-case';
import { DeleteOrchestration } from './orchestrations/delete-orchestration.use-case';
import { DeleteExpiredOrchestrations } from './retention/delete-expired-orchestrations';
import { EventStreamRetention } from './retention/event-stream-retention';
import { PruneRelayedEvents } from './retention/prune-relayed-events';
import { RegistryMetrics } from './registry-metrics';
import { RequeueLostRunnerSessions } from './leases/requeue-lost-runner-sessions.use-case';
import { RunnerLeaseStore } from './leases/runner-lease-store';
import { RunnerQueries } from './leases/runner-queries';
import { WatchRunnerLeases } from './leases/watch-runner-leases';

const USE_CASES = [
  CreateSession,
  StartSession,
  CancelSession,
  RerunSession,
  ContinueSession,
  DeleteSession,
  ClaimSession,
  RecordDependencyOutcome,
  RecordContainerOutcome,
  SessionQueries,
  CreateOrchestration,
  StartOrchestration,
  CancelOrchestration,
  RetryOrchestration,
  DeleteOrchestration,
  OrchestrationQueries,
  RecordOrchestrationResult,
  UpdateOrchestrationBudget,
  UsageQueries,
  RunnerQueries,
];

/**
 * The session-registry's use cases and the store under them. Its periodic work (the outbox relay's
 * sweep, the expiry of overdue sessions, the runners' leases, retention) starts and stops with the application.
 */
@Module({})
export class RegistryModule {
  static forRoot(dataSource: DataSource, settings: RegistrySettings, logger: HubLogger): DynamicModule {
    return {
      module: RegistryModule,
      providers: [
        { provide: DataSource, useValue: dataSource },
        { provide: REGISTRY_SETTINGS, useValue: settings },
        { provide: HUB_LOGGER, useValue: logger },
        { provide: RegistryMetrics, useFactory: () => new RegistryMetrics(dataSource, logger) },
        SessionStore,
        OutboxRelay,
        SessionTransitions,
        ReadyDispatch,
        RecordUsage,
        OrchestrationCompletion,
        ExpireOverdueSessions,
        DeleteExpiredOrchestrations,
        EventStreamRetention,
        PruneRelayedEvents,
        OrchestrationReads,
        // The runners' heartbeats, read (never written) on the service's NATS connection (MessagingModule).
        { provide: RunnerHeartbeats, useFactory: (nc: NatsConnection) => new RunnerHeartbeats(nc), inject: [NATS_CONNECTION] },
        RunnerLeaseStore,
        RequeueLostRunnerSessions,
        WatchRunnerLeases,
        ...USE_CASES,
      ],
      exports: [HUB_LOGGER, SessionStore, ...USE_CASES],
    };
  }
}
