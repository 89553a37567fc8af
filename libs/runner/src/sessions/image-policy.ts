import { escapeRegExp } from '../util/escape-regexp';
import { parseImageReference } from '@hub/contracts';

/**
 * Which images a runner will run: a comma-separated allow-list of patterns where `*` matches
 * anything (`hub/*`, `ghcr.io/acme/agent:1.*`), matched against the image's familiar form, the one
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
function familiarPattern(pattern: string, variable: string): string {
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

/**
 * The Docker network each image's containers join: `none` unless configured
 * (`HUB_IMAGE_NETWORKS=hub/claude-code*=bridge`), because an agent that calls an API needs one.
 * `host` is refused: it would give the agent the runner's own network stack.
 */
export class NetworkPolicy {
  private readonly rules: { pattern: string; network: string }[];

  constructor(spec: string) {
    this.rules = spec
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const [pattern, network] = part.split('=').map((x) => x?.trim());
        if (!pattern || !network || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(network) || network === 'host') {
          throw new Error(`network rule "${part}" must look like image-pattern=network (not host)`);
        }
        return { pattern: familiarPattern(pattern, 'HUB_IMAGE_NETWORKS'), network };
      });
  }

  networkFor(image: string): string {
    return this.rules.find((rule) => imageMatches(rule.pattern, image))?.network ?? 'none';
  }
}
