import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger, PeriodicTask } from '@hub/config';
import { ResolveDependencies } from './resolve-dependencies.use-case';
import { RESOLVER_SETTINGS, ResolverSettings } from './resolver.tokens';

/**
 * The resolver's safety net: every waiting session is re-decided as the resolver starts and then
 * every `recheckIntervalMs` while it runs, so a session never waits on an event that was missed.
 */
@Injectable()
export class RecheckWaitingSessions extends PeriodicTask {
  constructor(
    private readonly resolveDependencies: ResolveDependencies,
    @Inject(RESOLVER_SETTINGS) settings: ResolverSettings,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {
    super({ everyMs: settings.recheckIntervalMs, atStart: true });
  }

  /** One pass; a failure is logged and left to the next. */
  async runOnce(): Promise<void> {
    try {
      await this.resolveDependencies.recheckWaiting();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 're-check of waiting sessions failed; will retry');
    }
  }
}
