import { parseImageReference } from './image-reference';

/**
 * Which images Hub's runners will run (HUB_ALLOWED_IMAGES): the registry refuses any other image when a
 * session is created (400), and each runner checks again before it runs one. A comma-separated
 * allow-list of patterns where `*` matches anything (`hub/*`, `ghcr.io/acme/agent:1.*`), matched against the image's familiar form, the one
 * Hub stores (`hub/test-agent:latest`, `busybox:latest`; see parseImageReference). An image that
 * Docker's grammar refuses (`hub/../busybox`) is never allowed, whatever the patterns say.
 */
export class ImagePolicy {
  private readonly patterns: RegExp[];

  constructor(readonly allowList: string) {
    this.patterns = allowList
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => patternRegExp(familiarPattern(p, 'HUB_ALLOWED_IMAGES')));
  }

  allows(image: string): boolean {
    const familiar = familiarImage(image);
    return familiar !== null && this.patterns.some((pattern) => pattern.test(familiar));
  }
}

/** Whether an image matches a pattern where `*` matches anything, compared in familiar form. */
export function imageMatches(pattern: string, image: string): boolean {
  const familiar = familiarImage(image);
  return familiar !== null && patternRegExp(pattern).test(familiar);
}

/** `hub/x` → `hub/x:latest`; null when Docker would not take it for an image reference. */
function familiarImage(image: string): string | null {
  const parsed = parseImageReference(image);
  return parsed.ok ? parsed.reference.familiar : null;
}

/**
 * A pattern as images are compared: one without `*` is an image reference, normalised like the
 * images (`busybox` → `busybox:latest`); one with `*` is kept, unless it starts with Docker Hub's
 * domain, which familiar names never show (it could never match: `hub/*`, not `docker.io/hub/*`).
 */
export function familiarPattern(pattern: string, variable: string): string {
  if (pattern.includes('*')) {
    if (/^(index\.)?docker\.io\//.test(pattern)) {
      throw new Error(
        `${variable}: pattern "${pattern}" could never match: images are compared in Docker's familiar form (hub/test-agent:latest, busybox:latest), so write it without "${pattern.slice(0, pattern.indexOf('/') + 1)}"`,
      );
    }
    return pattern;
  }
  const parsed = parseImageReference(pattern);
  if (!parsed.ok) throw new Error(`${variable}: "${pattern}" ${parsed.message}`);
  return parsed.reference.familiar;
}

function patternRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
}

/** `text` as a literal inside a regular expression. */
export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
