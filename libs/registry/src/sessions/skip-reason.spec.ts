import type { SessionRecord } from '../store/session-record';
import { skipReason } from './record-dependency-outcome.use-case';

const record = (fields: Partial<SessionRecord>) => ({ name: null, exitCode: null, statusReason: null, ...fields }) as SessionRecord;

describe('skipReason', () => {
  it('names the dependency that failed and its exit code', () => {
    const a = record({ name: 'A', status: 'failed', exitCode: 1, statusReason: 'exited with code 1: last log line: boom' });
    expect(skipReason(a, 'id-a', 'failed')).toBe('A (id-a) failed (exited with code 1)');
  });

  it('says why a dependency without an exit code ended', () => {
    const a = record({ status: 'timed_out', statusReason: 'timed_out: exceeded its time limit: 5s' });
    expect(skipReason(a, 'id-a', 'timed_out')).toBe('id-a timed_out (timed_out: exceeded its time limit: 5s)');
  });

  it('passes the root cause down a chain of skips: A ← B ← C', () => {
    const b = record({ name: 'B', status: 'skipped', statusReason: 'A (id-a) failed (exited with code 1)' });
    const reasonOfC = skipReason(b, 'id-b', 'skipped');
    expect(reasonOfC).toBe('A (id-a) failed (exited with code 1) ← B (id-b)');
    const c = record({ name: 'C', status: 'skipped', statusReason: reasonOfC });
    expect(skipReason(c, 'id-c', 'skipped')).toBe('A (id-a) failed (exited with code 1) ← B (id-b) ← C (id-c)');
  });

  it('keeps the root cause and the last hops of a very long chain', () => {
    let reason = 'root (id-root) failed (exited with code 2)';
    for (let hop = 0; hop < 200; hop++) {
      reason = skipReason(record({ name: `s${hop}`, status: 'skipped', statusReason: reason }), `id-${hop}`, 'skipped');
    }
    expect(reason.length).toBeLessThanOrEqual(1000);
    expect(reason.startsWith('root (id-root) failed (exited with code 2) ← … ← ')).toBe(true);
    expect(reason.endsWith('s199 (id-199)')).toBe(true);
  });
});
