import { formatBytes, formatDuration, sessionDurationMs, sessionLabel } from './format';

describe('formatting', () => {
  it('says durations in the unit that reads', () => {
    expect([450, 4_200, 42_000, 187_000, 7_500_000, 200_000_000, -1].map(formatDuration)).toEqual(['450 ms', '4.2 s', '42 s', '3 min 07 s', '2 h 05 min', '2 d 7 h', '—']);
  });

  it('times a session from its start to its end, or to now while it runs', () => {
    expect(sessionDurationMs({ startedAt: '2026-11-29T10:00:00Z', finishedAt: '2026-11-29T10:00:03.5Z' }, 0)).toBe(3_500);
    expect(sessionDurationMs({ startedAt: '2026-11-29T10:00:00Z', finishedAt: null }, Date.parse('2026-11-29T10:01:00Z'))).toBe(60_000);
    expect(sessionDurationMs({ startedAt: null, finishedAt: null }, 0)).toBeUndefined();
  });

  it('says sizes in binary units', () => {
    expect([0, 1023, 1536, 12 * 1024 * 1024, 5 * 1024 ** 4].map(formatBytes)).toEqual(['0 B', '1023 B', '1.5 KiB', '12 MiB', '5.0 TiB']);
  });

  it('names a session by its name, else its short id', () => {
    expect(sessionLabel({ id: '0b9c8a0e-5d1c-4c53-9a51-1f0c1b7e4a11', name: null })).toBe('0b9c8a0e');
    expect(sessionLabel({ id: 'x', name: 'review' })).toBe('review');
  });
});
