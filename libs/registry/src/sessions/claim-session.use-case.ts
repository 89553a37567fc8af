import { Injectable } from '@nestjs/common';
import { SessionSpec } from '@hub/contracts';
import { SessionTransitions } from './session-transitions';

/**
 * A runner claims a ready session before it creates anything: ready → starting, atomically, so that
 * exactly one runner gets it and each attempt has exactly one container.
 */
@Injectable()
export class ClaimSession {
  constructor(private readonly transitions: SessionTransitions) {}

  async execute(sessionId: string, runnerId: string): Promise<{ claimed: boolean; spec: SessionSpec | null }> {
    const claimed = await this.transitions.move({
      sessionId,
      from: ['ready'],
      to: 'starting',
      reason: `claimed by runner ${runnerId}`,
      changes: { runnerId, incrementAttempt: true },
    });
    if (!claimed) return { claimed: false, spec: null };
    return {
      claimed: true,
      spec: {
        sessionId: claimed.id,
        orchestrationId: claimed.orchestrationId,
        type: claimed.type,
        prompt: claimed.prompt,
        image: claimed.image,
        repository: claimed.repository,
        branch: claimed.branch,
        timeoutSeconds: claimed.timeoutSeconds,
        attempt: claimed.attempt,
      },
    };
  }
}
