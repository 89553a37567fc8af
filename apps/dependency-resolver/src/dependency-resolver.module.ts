import { DynamicModule, Module } from '@nestjs/common';
import { NatsConnection } from 'nats';
import { HubLogger } from '@hub/config';
import { EVENTS, rpcSubjectsAnsweredBy } from '@hub/contracts';
import { MessagingModule, ServiceDefinition } from '@hub/messaging';
import { ResolverModule } from '@hub/resolver';
import { DependencyEventsController } from './dependency-events.controller';
import { ResolverHealthController } from './resolver-health.controller';

/** Waiting sessions are re-decided at start and this often, in case an event was ever missed. */
const RECHECK_INTERVAL_MS = 30_000;

/** What the dependency-resolver takes work from: runService binds each subject and checks it has exactly one handler. */
export const DEPENDENCY_RESOLVER_SUBJECTS = {
  events: [EVENTS.sessionStartRequested, EVENTS.sessionStatusChanged],
  rpc: rpcSubjectsAnsweredBy('dependency-resolver'),
} satisfies Pick<ServiceDefinition, 'events' | 'rpc'>;

/** The dependency-resolver: its handlers, over the resolver's use case, on the service's NATS connection. */
@Module({ controllers: [DependencyEventsController, ResolverHealthController] })
export class DependencyResolverModule {
  static forRoot(nc: NatsConnection, logger: HubLogger): DynamicModule {
    return {
      module: DependencyResolverModule,
      imports: [MessagingModule.forConnection(nc), ResolverModule.forRoot({ recheckIntervalMs: RECHECK_INTERVAL_MS }, logger)],
    };
  }
}
