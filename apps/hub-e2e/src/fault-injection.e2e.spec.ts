import { ALL_FAULTS, newSeed, runFaultTest } from './support/fault';

// The fault test, shortened for the suite: a 200-session DAG (fan-out, fan-in, designed failures,
// retries) on a fresh stack while each of the four services is killed -9 and restarted, NATS is
// restarted and PostgreSQL is restarted, once each at seeded random moments. The full form, with a
// bigger DAG and more faults, is `npm run fault-test` (see docs/reliability.md).
// Replay a run with HUB_FAULT_SEED=<the seed it printed>.

describe('fault injection: kill -9 every service, restart NATS and PostgreSQL, mid-run', () => {
  it('ends every session as the DAG dictates, one container per attempt, none left, outputs intact, each transition once', async () => {
    const seed = Number(process.env['HUB_FAULT_SEED'] ?? newSeed());
    const report = await runFaultTest({
      seed,
      sessions: 200,
      faults: ALL_FAULTS,
      firstFaultAfterMs: [2_000, 6_000],
      gapMs: [500, 3_000],
      downMs: [300, 2_000],
      maxSleepSeconds: 0.6,
      runTimeoutMs: 150_000,
    });

    expect(report.faults.map((f) => f.kind).sort()).toEqual([...ALL_FAULTS].sort());
    expect(report.faultsNotInjected).toEqual([]);
    expect(report.problems).toEqual([]);
    for (const fault of report.faults) expect(fault.recoveryMs).not.toBeNull();
  }, 290_000);
});
