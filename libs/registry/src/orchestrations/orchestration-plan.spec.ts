import { HubError, OrchestrationSession } from '@hub/contracts';
import { checkOrchestrationPlan } from './orchestration-plan';

const session = (name: string, dependsOn: string[] = []): OrchestrationSession => ({ name, type: 'analysis', prompt: 'true', dependsOn });

function problemOf(sessions: OrchestrationSession[]): HubError {
  try {
    checkOrchestrationPlan(sessions);
  } catch (error) {
    return error as HubError;
  }
  throw new Error('the plan was accepted');
}

describe('checkOrchestrationPlan', () => {
  it('accepts a diamond', () => {
    expect(() =>
      checkOrchestrationPlan([session('a'), session('b', ['a']), session('c', ['a']), session('d', ['b', 'c'])]),
    ).not.toThrow();
  });

  it('names a cycle, in order', () => {
    const error = problemOf([session('a', ['c']), session('b', ['a']), session('c', ['b']), session('d')]);
    expect(error.code).toBe('bad_request');
    expect(error.message).toMatch(/cycle: (a → c → b → a|b → a → c → b|c → b → a → c)/);
    expect((error.details as { cycle: string[] }).cycle).toHaveLength(4);
  });

  it('names unknown dependencies, self-dependencies and duplicate names together', () => {
    const error = problemOf([session('a', ['a']), session('b', ['ghost']), session('b')]);
    expect(error.message).toContain('used more than once: b');
    expect(error.message).toContain('cannot depend on itself: a');
    expect(error.message).toContain('b → ghost');
  });

  it('handles a 10,000-session chain without overflowing the stack', () => {
    const chain = Array.from({ length: 10_000 }, (_, i) => session(`s${i}`, i ? [`s${i - 1}`] : []));
    expect(() => checkOrchestrationPlan(chain)).not.toThrow();
    chain[0] = session('s0', ['s9999']);
    expect(problemOf(chain).message).toContain('cycle');
  });
});
