import { familiarPattern, imageMatches, parseImageReference } from '@hub/contracts';

/** A rule of HUB_IMAGE_PACING: at most `concurrent` sessions at once, `perMinute` starts a minute, of the images `pattern` matches. */
export interface PacingRule {
  pattern: string;
  concurrent: number | null;
  perMinute: number | null;
}

/** Why a session of an image waits, and for how long. */
export interface PacingDelay {
  waitMs: number;
  reason: string;
}

/** An image group paused until its model's rate limit resets. */
export interface ImagePause {
  group: string;
  until: string;
  why: string;
}

const WINDOW_MS = 60_000;
/**
 * How soon a session held back by its group's concurrency looks again: the slot it waits for frees
 * when a session ends, which cannot be foreseen: a second keeps the cap well used at the cost of one redelivery
 * per held-back session and second.
 */
export const CONCURRENCY_RECHECK_MS = 1_000;
const LIMITS = { concurrent: 1000, perMinute: 10_000 } as const;
type Limit = keyof typeof LIMITS;

/**
 * HUB_IMAGE_PACING: `image-pattern=concurrent:N,perMinute:N;…`, patterns as in HUB_EGRESS and
 * HUB_IMAGE_ENV (`*` wildcards, familiar form); each rule names one limit or both. An image takes
 * the first rule that matches it.
 */
export function parseImagePacing(spec: string): PacingRule[] {
  return spec
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(parseRule);
}

function parseRule(part: string): PacingRule {
  const example = 'e.g. hub/claude-code*=concurrent:4,perMinute:10';
  const equals = part.indexOf('=');
  const pattern = equals > 0 ? part.slice(0, equals).trim() : '';
  const limits = part.slice(equals + 1).split(',').map((limit) => limit.trim()).filter(Boolean);
  if (!pattern || !limits.length) throw new Error(`HUB_IMAGE_PACING: rule "${part}" must look like image-pattern=concurrent:N,perMinute:N (${example})`);
  const rule: PacingRule = { pattern: familiarPattern(pattern, 'HUB_IMAGE_PACING'), concurrent: null, perMinute: null };
  for (const limit of limits) {
    const match = /^(\w+)\s*:\s*(\d+)$/.exec(limit);
    const name = match?.[1] as Limit | undefined;
    if (!match || !name || !Object.hasOwn(LIMITS, name)) {
      throw new Error(`HUB_IMAGE_PACING: rule "${part}": "${limit}" must be concurrent:N or perMinute:N (${example})`);
    }
    const value = Number(match[2]);
    if (rule[name] !== null) throw new Error(`HUB_IMAGE_PACING: rule "${part}" names ${name} twice`);
    if (value < 1 || value > LIMITS[name]) throw new Error(`HUB_IMAGE_PACING: rule "${part}": ${name} must be 1 to ${LIMITS[name]}`);
    rule[name] = value;
  }
  return rule;
}

/**
 * Paces the sessions this runner starts, per image group (the pattern of the HUB_IMAGE_PACING rule
 * an image matches, or the image itself when none does): at most `concurrent` running, at most
 * `perMinute` started in any minute, and none while the group is paused because an agent of it hit
 * its model's rate limit. A session that must wait is handed back before it takes a slot.
 */
export class ImagePacing {
  private readonly running = new Map<string, number>();
  /** Per group, the start times (ms) within the last minute, oldest first: at most perMinute of them. */
  private readonly starts = new Map<string, number[]>();
  private readonly pauses = new Map<string, { until: number; why: string }>();

  constructor(
    readonly rules: readonly PacingRule[],
    private readonly now: () => number = Date.now,
  ) {}

  /** How long a session of `image` must wait before it may start here, and why; null when it may start now. */
  delayFor(image: string): PacingDelay | null {
    const { group, rule } = this.groupOf(image);
    const now = this.now();
    const delays: PacingDelay[] = [];
    const pause = this.pauses.get(group);
    if (pause && pause.until > now) {
      delays.push({ waitMs: pause.until - now, reason: `${group} is paused until ${new Date(pause.until).toISOString()}: ${pause.why}` });
    } else if (pause) {
      this.pauses.delete(group);
    }
    const running = this.running.get(group) ?? 0;
    if (rule?.concurrent && running >= rule.concurrent) {
      delays.push({
        waitMs: CONCURRENCY_RECHECK_MS,
        reason: `${group} has ${running} sessions running on this runner, its limit (HUB_IMAGE_PACING concurrent:${rule.concurrent})`,
      });
    }
    const recent = this.recentStarts(group, now);
    if (rule?.perMinute && recent.length >= rule.perMinute) {
      delays.push({
        waitMs: recent[recent.length - rule.perMinute]! + WINDOW_MS - now,
        reason: `${group} started ${recent.length} sessions on this runner in the last minute, its limit (HUB_IMAGE_PACING perMinute:${rule.perMinute})`,
      });
    }
    // Every limit must allow it: the longest wait.
    return delays.reduce<PacingDelay | null>((longest, delay) => (!longest || delay.waitMs > longest.waitMs ? delay : longest), null);
  }

  /** A session of `image` started (its claim succeeded, or its container was adopted) at `at`. */
  started(image: string, at: number = this.now()): void {
    const { group, rule } = this.groupOf(image);
    if (!rule) return;
    this.running.set(group, (this.running.get(group) ?? 0) + 1);
    if (!rule.perMinute) return;
    const now = this.now();
    const recent = [...this.recentStarts(group, now), at].filter((time) => time > now - WINDOW_MS).sort((a, b) => a - b);
    if (recent.length) this.starts.set(group, recent.slice(-rule.perMinute));
  }

  /** A session of `image` ended here (whatever its outcome). */
  ended(image: string): void {
    const { group, rule } = this.groupOf(image);
    if (!rule) return;
    const running = (this.running.get(group) ?? 0) - 1;
    if (running > 0) this.running.set(group, running);
    else this.running.delete(group);
  }

  /**
   * Holds back the sessions of `image`'s group until `resetAt` (a pause already longer stays).
   * Returns the pause in force, and whether it is a new one; null when resetAt is already past.
   */
  pauseUntil(image: string, resetAt: string, why: string): { pause: ImagePause; isNew: boolean } | null {
    const { group } = this.groupOf(image);
    const now = this.now();
    const until = Date.parse(resetAt);
    if (!(until > now)) return null;
    const current = this.pauses.get(group);
    const isNew = !current || current.until <= now;
    if (isNew || current.until < until) this.pauses.set(group, { until, why });
    const pause = this.pauses.get(group)!;
    return { pause: { group, until: new Date(pause.until).toISOString(), why: pause.why }, isNew };
  }

  /** The pauses in force now. */
  activePauses(): ImagePause[] {
    const now = this.now();
    for (const [group, pause] of this.pauses) if (pause.until <= now) this.pauses.delete(group);
    return [...this.pauses].map(([group, pause]) => ({ group, until: new Date(pause.until).toISOString(), why: pause.why }));
  }

  /** The rules in words, for /health/ready and the runner's log. */
  describe(): string {
    if (!this.rules.length) return 'no image is paced';
    return this.rules
      .map((rule) => {
        const limits = [rule.concurrent && `${rule.concurrent} at once`, rule.perMinute && `${rule.perMinute} started a minute`].filter(Boolean);
        return `${rule.pattern}: ${limits.join(', ')}`;
      })
      .join('; ');
  }

  /** The group an image is paced in: its rule's pattern, or the image (familiar form) when no rule matches it. */
  private groupOf(image: string): { group: string; rule: PacingRule | null } {
    const rule = this.rules.find((r) => imageMatches(r.pattern, image)) ?? null;
    if (rule) return { group: rule.pattern, rule };
    const parsed = parseImageReference(image);
    return { group: parsed.ok ? parsed.reference.familiar : image, rule: null };
  }

  private recentStarts(group: string, now: number): number[] {
    const recent = (this.starts.get(group) ?? []).filter((time) => time > now - WINDOW_MS);
    if (recent.length) this.starts.set(group, recent);
    else this.starts.delete(group);
    return recent;
  }
}
