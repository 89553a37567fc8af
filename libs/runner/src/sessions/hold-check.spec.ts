import { createLogger } from '@hub/config';
import { HeldSession, RpcRequest, RpcResponse, RpcSubject } from '@hub/contracts';
import { RpcClient } from '@hub/messaging';
import type { SendHeartbeats } from '../heartbeat/send-heartbeats';
import type { RunnerSettings } from '../runner.tokens';
import { HoldCheck } from './hold-check';
import { SessionLedger } from './session-ledger';

// Before it stores an attempt's outputs, a runner whose heartbeat was interrupted asks the registry
// whether the attempt is still its own; one whose heartbeat held throughout does not ask.

const held = (sessionId: string, attempt: number) => ({ sessionId, attempt }) as HeldSession;

class InMemoryRegistry {
  held: HeldSession[] = [];
  asked = 0;
  async call<S extends RpcSubject>(_subject: S, _request: RpcRequest<S>): Promise<RpcResponse<S>> {
    this.asked++;
    return { sessions: this.held, nextAfter: null } as unknown as RpcResponse<S>;
  }
}

describe('HoldCheck', () => {
  const log = createLogger('hold-check-test', 'silent');
  let registry: InMemoryRegistry;
  let interrupted: boolean;
  let check: HoldCheck;
  let ledger: SessionLedger;

  beforeEach(() => {
    registry = new InMemoryRegistry();
    interrupted = false;
    ledger = new SessionLedger();
    const heartbeat = { interruptedSince: () => interrupted } as unknown as SendHeartbeats;
    check = new HoldCheck(registry as unknown as RpcClient, heartbeat, { runnerId: 'r1' } as RunnerSettings);
  });

  it('does not ask while the heartbeat held since the attempt was taken', async () => {
    expect(await check.stillHolds(ledger.take('s1', 1), log)).toBe(true);
    expect(registry.asked).toBe(0);
  });

  it('asks after an interruption: holds the attempt the registry lists, gives up one it does not', async () => {
    interrupted = true;
    registry.held = [held('s1', 1), held('s2', 3)];
    expect(await check.stillHolds(ledger.take('s1', 1), log)).toBe(true);

    const stale = ledger.take('s2', 2);
    expect(await check.stillHolds(stale, log)).toBe(false);
    expect(stale.abandoned).toContain('its lease lapsed');
    expect(await check.stillHolds(ledger.take('s3', 1), log)).toBe(false);
  });
});
