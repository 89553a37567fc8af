import { Inject, Injectable } from '@nestjs/common';
import { HubLogger } from '@hub/config';
import { RpcClient } from '@hub/messaging';
import { SendHeartbeats } from '../heartbeat/send-heartbeats';
import { RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { retry } from '../util/retry';
import { heldSessionsOf } from './held-sessions';
import { SessionInHand } from './session-ledger';

/** How long the registry is asked before the runner goes on as if it held the attempt still. */
const ASK_PATIENCE_MS = 2 * 60_000;

/**
 * Whether this runner still holds an attempt before it stores and reports what the attempt produced.
 * The registry takes a runner's sessions from it when its heartbeat stops for longer than the lease
 * grace (the runner cut off from NATS, its process frozen): a runner that comes back must not store
 * its stale attempt's outputs over those of the attempt that ran elsewhere. Asked only when this
 * runner's heartbeat was interrupted since it took the attempt; otherwise its lease held throughout.
 */
@Injectable()
export class HoldCheck {
  constructor(
    private readonly rpc: RpcClient,
    private readonly heartbeat: SendHeartbeats,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
  ) {}

  /** False when the registry no longer gives this runner the attempt (then `session.abandoned` says why). */
  async stillHolds(session: SessionInHand, log: HubLogger): Promise<boolean> {
    if (session.abandoned) return false;
    if (!this.heartbeat.interruptedSince(session.takenAt)) return true;
    let held;
    try {
      held = await retry(() => heldSessionsOf(this.rpc, this.settings.runnerId), { what: 'asking the registry which sessions this runner holds', log, patienceMs: ASK_PATIENCE_MS });
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'the registry did not say whether this runner holds the attempt still; going on (a stale report is refused)');
      return true;
    }
    if (held.some((s) => s.sessionId === session.sessionId && s.attempt === session.attempt)) return true;
    session.abandoned =
      "the registry no longer gives this runner the attempt: this runner's heartbeat was interrupted, and its lease lapsed " +
      '(the session went back to ready for another runner, or ended)';
    return false;
  }
}
