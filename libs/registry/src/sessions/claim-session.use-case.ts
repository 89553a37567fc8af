import { Inject, Injectable } from '@nestjs/common';
import { SessionSpec } from '@hub/contracts';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';
import { preambleFor } from './session-template';
import { toSessionSpec } from './session-spec';
import { SessionStore } from '../store/session-store';
import { SessionTransitions } from './session-transitions';

/**
 * A runner claims a ready session before it creates anything: ready → starting, atomically, so that
 * exactly one runner gets it and each attempt has exactly one container. The answer carries what the
 * runner needs, the outputs of the session's dependencies included.
 */
@Injectable()
export class ClaimSession {
  constructor(
    private readonly store: SessionStore,
    private readonly transitions: SessionTransitions,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  async execute(sessionId: string, runnerId: string): Promise<{ claimed: boolean; spec: SessionSpec | null }> {
    const spec = await this.store.transaction(async (tx): Promise<SessionSpec | null> => {
      const claimed = await this.transitions.moveWithin(tx, {
        sessionId,
        from: ['ready'],
        to: 'starting',
        reason: `claimed by runner ${runnerId}`,
        changes: { runnerId, incrementAttempt: true },
      });
      if (!claimed) return null;
      const orchestrationName = await tx.orchestrationName(claimed.orchestrationId);
      return toSessionSpec(claimed, orchestrationName, preambleFor(this.settings, claimed.type), await tx.inputsOf(claimed.id));
    });
    return { claimed: spec !== null, spec };
  }
}
