import { familiarPattern, imageMatches } from '@hub/contracts';

export { ImagePolicy } from '@hub/contracts';

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
