import { SESSION_STATUSES, type SessionCounts } from '@hub/contracts';
import { whyNotPublished } from './publish-decision';

function counts(some: Partial<SessionCounts>): SessionCounts {
  return { ...(Object.fromEntries(SESSION_STATUSES.map((status) => [status, 0])) as SessionCounts), ...some };
}

const CHANGES = { repository: 'https://github.com/acme/app.git' };

describe('whyNotPublished', () => {
  it('publishes the changes of an orchestration whose every session completed', () => {
    expect(whyNotPublished({ status: 'completed', counts: counts({ completed: 3 }) }, { changes: CHANGES, reason: null })).toBeNull();
  });

  it('says how many sessions did not complete, and how they ended', () => {
    const end = { status: 'failed' as const, counts: counts({ completed: 2, failed: 1, timed_out: 1, skipped: 2 }) };
    expect(whyNotPublished(end, { changes: CHANGES, reason: null })).toBe('4 sessions did not complete (1 failed, 1 timed out, 2 skipped)');
    expect(whyNotPublished({ status: 'cancelled', counts: counts({ cancelled: 1 }) }, { changes: null, reason: null })).toBe(
      '1 session did not complete (1 cancelled)',
    );
  });

  it('does not publish what could not be combined, nothing, or changes without a repository', () => {
    const end = { status: 'completed' as const, counts: counts({ completed: 2 }) };
    expect(whyNotPublished(end, { changes: null, reason: "b's changes conflict with a's in x" })).toBe(
      "its changes could not be combined: b's changes conflict with a's in x",
    );
    expect(whyNotPublished(end, { changes: null, reason: null })).toBe('nothing changed');
    expect(whyNotPublished(end, { changes: { repository: null }, reason: null })).toBe('its sessions worked in no repository');
  });
});
