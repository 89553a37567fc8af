/**
 * Which images a runner will run: a comma-separated allow-list of references where `*` matches
 * anything (`hub/*`, `ghcr.io/acme/agent:*`).
 */
export class ImagePolicy {
  private readonly patterns: RegExp[];

  constructor(readonly allowList: string) {
    this.patterns = allowList
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`));
  }

  allows(image: string): boolean {
    return this.patterns.some((pattern) => pattern.test(image));
  }
}

/** Whether an image reference matches a pattern where `*` matches anything. */
export function imageMatches(pattern: string, image: string): boolean {
  return new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`).test(image);
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
        return { pattern, network };
      });
  }

  networkFor(image: string): string {
    return this.rules.find((rule) => imageMatches(rule.pattern, image))?.network ?? 'none';
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
