import { CreateSessionRequestSchema } from '../sessions/session.schemas';
import { hasRunnerLabels, RunnerLabelsSchema } from './runner-labels';

describe('runner labels', () => {
  it('are deduplicated and sorted', () => {
    expect(RunnerLabelsSchema.parse(['large', 'gpu', 'large'])).toEqual(['gpu', 'large']);
  });

  it.each([['GPU'], ['-gpu'], [''], ['a'.repeat(33)], ['gpu large'], ['gpu,large']])('refuse %j', (label) => {
    expect(RunnerLabelsSchema.safeParse([label]).success).toBe(false);
  });

  it('take dots, dashes, underscores and digits, up to 32 characters', () => {
    expect(RunnerLabelsSchema.parse(['a100', 'mem.large', 'zone-b', 'x_y', 'a'.repeat(32)])).toHaveLength(5);
  });

  it('are at most 8 different ones', () => {
    expect(RunnerLabelsSchema.safeParse(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']).success).toBe(true);
    expect(RunnerLabelsSchema.safeParse(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']).error?.issues[0]?.message).toMatch(/at most 8 different labels/);
    expect(RunnerLabelsSchema.safeParse([...Array(12)].map(() => 'gpu')).success).toBe(true);
  });

  it('are what a session may require when created', () => {
    expect(CreateSessionRequestSchema.parse({ prompt: 'true', runnerLabels: ['gpu', 'gpu'] }).runnerLabels).toEqual(['gpu']);
    expect(CreateSessionRequestSchema.safeParse({ prompt: 'true', runnerLabels: ['GPU'] }).success).toBe(false);
  });

  it('a runner matches when it has every one a session requires', () => {
    expect(hasRunnerLabels(['gpu', 'large'], ['gpu'])).toBe(true);
    expect(hasRunnerLabels(['large'], ['gpu'])).toBe(false);
    expect(hasRunnerLabels([], [])).toBe(true);
  });
});
