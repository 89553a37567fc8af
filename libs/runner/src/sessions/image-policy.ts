import { familiarPattern, imageMatches } from '@hub/contracts';

export { ImagePolicy } from '@hub/contracts';

/**
 * The Docker network each image's containers join: `none` unless configured
 * (`HUB_IMAGE_NETWORKS=hub/claude-code*=bridge`): the whole network, the LAN and the cloud's metadata
 * address included. HUB_EGRESS (named destinations through Hub's proxy, with network none) is the
 * narrower way to let an agent call an API. `host` is refused: it would give the agent the runner's
 * own network stack.
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

  /** The networks the rules name (each must exist on the engine). */
  get networks(): string[] {
    return [...new Set(this.rules.map((rule) => rule.network).filter((network) => network !== 'none'))];
  }
}

/** Why a session whose image is given `network` cannot run on an engine without it: the cause, and what to do instead. */
export function missingNetworkReason(network: string, image?: string): string {
  const given = image ? `HUB_IMAGE_NETWORKS gives ${image} the network ${network}, but ` : '';
  if (network === 'bridge') {
    return `${given}this Docker engine has no bridge network (dockerd --bridge=none): use HUB_EGRESS to allow destinations through Hub's proxy instead`;
  }
  return `${given}this Docker engine has no network named ${network} (Hub never creates one): create it, or use HUB_EGRESS to allow destinations through Hub's proxy instead`;
}
