import { CONCURRENCY_RECHECK_MS, ImagePacing, parseImagePacing } from './image-pacing';

const CLAUDE = 'hub/claude-code:1.2';

/** An ImagePacing on a clock the test moves. */
function pacing(spec: string) {
  const clock = { now: Date.parse('2026-01-01T12:00:00.000Z') };
  const paced = new ImagePacing(parseImagePacing(spec), () => clock.now);
  return { paced, advance: (ms: number) => (clock.now += ms), at: (ms: number) => new Date(clock.now + ms).toISOString() };
}

describe('parseImagePacing', () => {
  it('reads image-pattern=limit,limit rules, patterns in familiar form', () => {
    expect(parseImagePacing(' hub/claude-code*=concurrent:4, perMinute:10 ; busybox=concurrent:2;')).toEqual([
      { pattern: 'hub/claude-code*', concurrent: 4, perMinute: 10 },
      { pattern: 'busybox:latest', concurrent: 2, perMinute: null },
    ]);
    expect(parseImagePacing('')).toEqual([]);
  });

  it.each([
    ['hub/*', /must look like image-pattern=concurrent:N,perMinute:N/],
    ['hub/*=', /must look like image-pattern=/],
    ['=concurrent:1', /must look like image-pattern=/],
    ['hub/*=parallel:2', /"parallel:2" must be concurrent:N or perMinute:N/],
    ['hub/*=toString:2', /"toString:2" must be concurrent:N or perMinute:N/],
    ['hub/*=concurrent:two', /must be concurrent:N or perMinute:N/],
    ['hub/*=concurrent:0', /concurrent must be 1 to 1000/],
    ['hub/*=concurrent:1,concurrent:2', /names concurrent twice/],
    ['docker.io/hub/*=concurrent:1', /could never match/],
    ['Hub/UPPER=concurrent:1', /HUB_IMAGE_PACING: "Hub\/UPPER"/],
  ])('refuses %s, naming the variable', (spec, message) => {
    expect(() => parseImagePacing(spec)).toThrow(/^HUB_IMAGE_PACING: /);
    expect(() => parseImagePacing(spec)).toThrow(message);
  });
});

describe('ImagePacing', () => {
  it('lets any image start when there are no rules nor pauses', () => {
    const { paced } = pacing('');
    paced.started(CLAUDE);

    expect(paced.delayFor(CLAUDE)).toBeNull();
    expect(paced.describe()).toBe('no image is paced');
  });

  it("holds back a group's sessions while as many as its concurrency run here, and lets one start once one ends", () => {
    const { paced } = pacing('hub/claude-code*=concurrent:2');
    paced.started(CLAUDE);
    expect(paced.delayFor('hub/claude-code:2.0')).toBeNull();
    paced.started('hub/claude-code:2.0');

    expect(paced.delayFor(CLAUDE)).toEqual({
      waitMs: CONCURRENCY_RECHECK_MS,
      reason: 'hub/claude-code* has 2 sessions running on this runner, its limit (HUB_IMAGE_PACING concurrent:2)',
    });
    expect(paced.delayFor('hub/test-agent:latest')).toBeNull();
    paced.ended(CLAUDE);
    expect(paced.delayFor(CLAUDE)).toBeNull();
  });

  it('holds back starts past perMinute until the oldest leaves the last minute', () => {
    const { paced, advance } = pacing('hub/claude-code*=perMinute:2');
    paced.started(CLAUDE);
    advance(20_000);
    paced.started(CLAUDE);
    paced.ended(CLAUDE);
    paced.ended(CLAUDE);

    expect(paced.delayFor(CLAUDE)).toEqual({
      waitMs: 40_000,
      reason: 'hub/claude-code* started 2 sessions on this runner in the last minute, its limit (HUB_IMAGE_PACING perMinute:2)',
    });
    advance(40_000);
    expect(paced.delayFor(CLAUDE)).toBeNull();
    paced.started(CLAUDE);
    expect(paced.delayFor(CLAUDE)?.waitMs).toBe(20_000);
  });

  it('counts an adopted session in the minute it started, not when it was adopted', () => {
    const { paced } = pacing('hub/*=perMinute:1');
    paced.started(CLAUDE, Date.parse('2026-01-01T11:59:30.000Z'));
    expect(paced.delayFor(CLAUDE)?.waitMs).toBe(30_000);

    paced.started('hub/other:latest', Date.parse('2026-01-01T11:50:00.000Z'));
    expect(paced.delayFor(CLAUDE)?.waitMs).toBe(30_000);
  });

  it("pauses the group of the pattern an image matches until its reset, keeping the longer of two pauses", () => {
    const { paced, advance, at } = pacing('hub/claude-code*=concurrent:4');
    const first = paced.pauseUntil(CLAUDE, at(600_000), 'usage limit reached');

    expect(first).toEqual({ pause: { group: 'hub/claude-code*', until: at(600_000), why: 'usage limit reached' }, isNew: true });
    expect(paced.delayFor('hub/claude-code:9')).toEqual({
      waitMs: 600_000,
      reason: `hub/claude-code* is paused until ${at(600_000)}: usage limit reached`,
    });
    expect(paced.delayFor('hub/test-agent:latest')).toBeNull();
    expect(paced.pauseUntil(CLAUDE, at(60_000), 'shorter')).toMatchObject({ pause: { until: at(600_000), why: 'usage limit reached' }, isNew: false });
    expect(paced.pauseUntil(CLAUDE, at(900_000), 'longer')).toMatchObject({ pause: { until: at(900_000), why: 'longer' }, isNew: false });
    expect(paced.activePauses()).toEqual([{ group: 'hub/claude-code*', until: at(900_000), why: 'longer' }]);

    advance(900_000);
    expect(paced.delayFor(CLAUDE)).toBeNull();
    expect(paced.activePauses()).toEqual([]);
  });

  it('pauses the exact image (familiar form) when no rule matches it, and ignores a reset already past', () => {
    const { paced, at } = pacing('hub/claude-code*=concurrent:4');

    expect(paced.pauseUntil('hub/test-agent', at(1_000), 'rate limited')?.pause.group).toBe('hub/test-agent:latest');
    expect(paced.delayFor('hub/test-agent:latest')?.waitMs).toBe(1_000);
    expect(paced.delayFor('hub/test-agent:other')).toBeNull();
    expect(paced.pauseUntil(CLAUDE, at(-1), 'late')).toBeNull();
    expect(paced.delayFor(CLAUDE)).toBeNull();
  });

  it('gives the longest of the waits when several limits hold a session back', () => {
    const { paced, at } = pacing('hub/*=concurrent:1,perMinute:1');
    paced.started(CLAUDE);
    expect(paced.delayFor(CLAUDE)?.waitMs).toBe(60_000);
    paced.pauseUntil(CLAUDE, at(3_600_000), 'quota');
    expect(paced.delayFor(CLAUDE)?.reason).toMatch(/^hub\/\* is paused until/);
  });

  it('describes its rules', () => {
    expect(pacing('hub/claude-code*=concurrent:4,perMinute:10;hub/other:latest=concurrent:2').paced.describe()).toBe(
      'hub/claude-code*: 4 at once, 10 started a minute; hub/other:latest: 2 at once',
    );
  });
});
