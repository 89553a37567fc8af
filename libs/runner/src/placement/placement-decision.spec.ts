import { describeRunners, placeByImage, placeByLabels, runnerLabelsCheck } from './placement-decision';

const A = { runnerId: 'a', labels: ['large'] };
const B = { runnerId: 'b', labels: [] };
const C = { runnerId: 'c', labels: ['gpu', 'large'] };

describe('placeByLabels', () => {
  it('claims a session whose every label the runner has, or one that requires none', () => {
    expect(placeByLabels(C, ['gpu'], null)).toEqual({ kind: 'claim' });
    expect(placeByLabels(C, ['gpu', 'large'], [])).toEqual({ kind: 'claim' });
    expect(placeByLabels(B, [], [A, B, C])).toEqual({ kind: 'claim' });
  });

  it('hands it back soon for a live runner that has them all', () => {
    expect(placeByLabels(A, ['gpu'], [A, B, C])).toEqual({
      kind: 'defer',
      delayMs: 1_000,
      reason: 'it needs runner labels gpu; this runner has large; handed back for c',
    });
    // c has both, a only one of them
    expect(placeByLabels(B, ['gpu', 'large'], [A, B, C])).toMatchObject({ kind: 'defer', delayMs: 1_000, reason: expect.stringMatching(/handed back for c$/) });
  });

  it('looks again later when no live runner has them, naming the runners', () => {
    expect(placeByLabels(A, ['tpu'], [A, B, C])).toEqual({
      kind: 'defer',
      delayMs: 5_000,
      reason: 'waiting for a runner with labels tpu: no live runner has them (runners: a [large], b [], c [gpu, large])',
    });
  });

  it('hands it back soon when the runners cannot be read', () => {
    expect(placeByLabels(B, ['gpu'], null)).toMatchObject({ kind: 'defer', delayMs: 1_000, reason: expect.stringMatching(/could not be read/) });
  });
});

describe('placeByImage', () => {
  const IMAGE = 'hub/test-agent:only-b';

  it('hands it back while a live runner that may take it has not refused it', () => {
    expect(placeByImage(IMAGE, A, [], ['a'], [A, B, C])).toEqual({
      kind: 'defer',
      delayMs: 1_000,
      reason: "image hub/test-agent:only-b is not on this runner's Docker engine; handed back for b, c",
    });
  });

  it('fails it, naming the runners that refused, once every live runner that may take it has', () => {
    expect(placeByImage(IMAGE, C, [], ['a', 'b', 'c'], [A, B, C])).toEqual({
      kind: 'fail',
      reason: "image hub/test-agent:only-b is on no runner: refused by a, b, c; build or load it on a runner's Docker engine, then re-run the session",
    });
  });

  it('does not wait for runners that may not take it (labels), nor for runners gone (no heartbeat)', () => {
    // b lacks large; d refused and is gone: neither is waited for.
    expect(placeByImage(IMAGE, C, ['large'], ['d', 'a', 'c'], [A, B, C])).toMatchObject({ kind: 'fail', reason: expect.stringMatching(/refused by d, a, c;/) });
  });

  it('counts itself among the runners that may take it even before its heartbeat shows', () => {
    expect(placeByImage(IMAGE, A, [], ['b'], [B])).toMatchObject({ kind: 'defer', reason: expect.stringMatching(/handed back for a$/) });
  });

  it('never fails a session on runners it could not read', () => {
    expect(placeByImage(IMAGE, A, [], ['a'], null)).toMatchObject({ kind: 'defer' });
  });
});

describe('runnerLabelsCheck', () => {
  it('says which sessions wait for labels no live runner has, and lists the runners: a warning, not a failure', () => {
    const check = runnerLabelsCheck(
      [
        { labels: ['gpu'], sessions: 1, readySince: null },
        { labels: ['large'], sessions: 3, readySince: null },
        { labels: ['gpu', 'tpu'], sessions: 2, readySince: null },
      ],
      [A, B],
    );
    expect(check).toEqual({
      name: 'runner labels',
      ok: true,
      detail: '1 session waits for a runner with labels gpu; 2 sessions wait for a runner with labels gpu, tpu; runners: a [large], b []',
      fix: 'start a runner whose HUB_RUNNER_LABELS include gpu, tpu (docs/scaling.md), or cancel the sessions that need them',
    });
  });

  it('says when every waiting session has a runner for it, or none waits', () => {
    expect(runnerLabelsCheck([{ labels: ['gpu'], sessions: 2, readySince: null }], [A, C])).toEqual({
      name: 'runner labels',
      ok: true,
      detail: '2 ready sessions need runner labels, each had by a live runner; runners: a [large], c [gpu, large]',
    });
    expect(runnerLabelsCheck([], [])).toEqual({ name: 'runner labels', ok: true, detail: 'no ready session waits for runner labels; runners: none' });
  });
});

describe('describeRunners', () => {
  it('lists runners by id with their labels', () => {
    expect(describeRunners([C, A, B])).toBe('a [large], b [], c [gpu, large]');
  });
});
