import { decide } from './dependency-decision';

describe('decide', () => {
  it('lets a session without dependencies start', () => {
    expect(decide([])).toEqual({ kind: 'resolved' });
  });

  it('waits while any dependency has not ended', () => {
    expect(decide([{ sessionId: 'a', status: 'completed' }, { sessionId: 'b', status: 'running' }])).toEqual({
      kind: 'wait',
    });
  });

  it.each(['failed', 'cancelled', 'timed_out', 'skipped'] as const)('never starts after a dependency %s', (status) => {
    expect(decide([{ sessionId: 'a', status: 'completed' }, { sessionId: 'b', status }])).toEqual({
      kind: 'failed',
      dependencyId: 'b',
      dependencyStatus: status,
    });
  });
});
