import type { OrchestrationResult, OrchestrationStatus, OrchestrationSummary } from '@hub/contracts';
import { noCombinedChangeMessage } from './orchestration-files.service';

const ID = '0b0f6a52-3c1e-4a51-9d55-5a7c2a4f0e11';

const orchestration = (status: OrchestrationStatus, result: OrchestrationResult | null = null) =>
  ({ id: ID, status, result }) as OrchestrationSummary;

const ended = (reason: string | null): OrchestrationResult => ({ changes: null, reason, publish: null, at: new Date().toISOString() });

describe('why an orchestration has no combined change', () => {
  it('says its sessions have not all ended', () => {
    expect(noCombinedChangeMessage(orchestration('running'))).toBe(
      `no combined change yet: orchestration ${ID} is running: its sessions are still running; the combined change is made when every session ended`,
    );
    expect(noCombinedChangeMessage(orchestration('pending'))).toMatch(/is pending: some of its sessions were never started/);
  });

  it('says it is being made when every session ended but nothing is recorded yet', () => {
    expect(noCombinedChangeMessage(orchestration('failed'))).toBe(
      `no combined change yet: orchestration ${ID} is failed: its sessions' changes are being combined; try again shortly`,
    );
  });

  it('gives the recorded reason, else that nothing changed', () => {
    expect(noCombinedChangeMessage(orchestration('completed', ended('impl-b conflicts with impl-a in src/app.py')))).toBe(
      `no combined change: orchestration ${ID} has none: impl-b conflicts with impl-a in src/app.py`,
    );
    expect(noCombinedChangeMessage(orchestration('completed', ended(null)))).toBe(
      `no combined change: orchestration ${ID} has none: no session changed anything`,
    );
  });
});
