import { DynamicModule, Module } from '@nestjs/common';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { RecheckWaitingSessions } from './recheck-waiting-sessions';
import { ResolveDependencies } from './resolve-dependencies.use-case';
import { RESOLVER_SETTINGS, ResolverSettings } from './resolver.tokens';
import { ResolverMetrics } from './resolver-metrics';

/**
 * The dependency-resolver's use case, and its periodic re-check of waiting sessions, which starts
 * and stops with the application.
 */
@Module({})
export class ResolverModule {
  static forRoot(settings: ResolverSettings, logger: HubLogger): DynamicModule {
    return {
      module: ResolverModule,
      providers: [
        { provide: RESOLVER_SETTINGS, useValue: settings },
        { provide: HUB_LOGGER, useValue: logger },
        { provide: ResolverMetrics, useFactory: () => new ResolverMetrics() },
        ResolveDependencies,
        RecheckWaitingSessions,
      ],
      exports: [HUB_LOGGER, ResolveDependencies],
    };
  }
}
