import { familiarPattern, imageMatches } from '../sessions/image-allow-list';
import {
  type EgressDestination,
  egressDestinationCovers,
  formatEgressDestination,
  parseEgressDestination,
  repositoryEgressDestination,
} from './egress-destination';

/** In a HUB_EGRESS rule: the git host of the session's repository, when it is an https URL (host:443). */
export const REPOSITORY_EGRESS = '@repository';

/**
 * What HUB_EGRESS is when unset: Claude Code reaches the Anthropic API and its session's git host;
 * every other image reaches nothing.
 */
export const DEFAULT_EGRESS = `hub/claude-code*=api.anthropic.com,${REPOSITORY_EGRESS}`;

interface EgressRule {
  pattern: string;
  destinations: EgressDestination[];
  repository: boolean;
}

/** What a session may reach: the destinations, and those it asked for that its image does not allow. */
export interface SessionEgress {
  allowed: EgressDestination[];
  refused: string[];
}

/**
 * Which destinations each image's sessions may reach through Hub's egress proxy (HUB_EGRESS, read
 * by the registry and by every runner): `image-pattern=destination,destination;…`, patterns as in
 * HUB_IMAGE_NETWORKS (`*` wildcards, familiar form), destinations as in egress-destination.ts, plus
 * `@repository`. An image matched by several rules gets all their destinations; an image no rule
 * matches gets none. A session may narrow its image's allowance (`egress` on the session), never widen it.
 */
export class EgressPolicy {
  private readonly rules: EgressRule[];

  /** `none`: no image may reach anything. */
  constructor(readonly spec: string) {
    this.rules = (spec.trim().toLowerCase() === 'none' ? '' : spec)
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map(parseRule);
  }

  /** The destinations an image's sessions may reach, the repository's git host included when a rule says @repository. */
  imageAllows(image: string, repository: string | null): EgressDestination[] {
    const found: EgressDestination[] = [];
    for (const rule of this.rules.filter((r) => imageMatches(r.pattern, image))) {
      found.push(...rule.destinations);
      const gitHost = rule.repository ? repositoryEgressDestination(repository) : null;
      if (gitHost) found.push(gitHost);
    }
    return dedupe(found);
  }

  /**
   * What one session may reach: its image's allowance, or, when it names its own (`requested`, even
   * empty), those of them its image allows; `refused` lists the others as they were written.
   */
  sessionAllows(image: string, repository: string | null, requested: readonly string[] | null | undefined): SessionEgress {
    const allowance = this.imageAllows(image, repository);
    if (requested === null || requested === undefined) return { allowed: allowance, refused: [] };
    const allowed: EgressDestination[] = [];
    const refused: string[] = [];
    for (const written of requested) {
      const parsed = parseEgressDestination(written);
      if (parsed.ok && allowance.some((outer) => egressDestinationCovers(outer, parsed.destination))) allowed.push(parsed.destination);
      else refused.push(written);
    }
    return { allowed: dedupe(allowed), refused };
  }

  /** Whether any image may reach anything (else no session ever needs the proxy). */
  get allowsAny(): boolean {
    return this.rules.some((rule) => rule.destinations.length > 0 || rule.repository);
  }

  /** The policy in words, for /health/ready and the runner's log. */
  describe(): string {
    if (!this.rules.length) return 'no image may reach any destination';
    const rules = this.rules.map((rule) => {
      const named = rule.destinations.map(formatEgressDestination);
      if (rule.repository) named.push("the git host of the session's https repository (:443)");
      return `${rule.pattern}: ${named.length ? named.join(', ') : 'nothing'}`;
    });
    return `${rules.join('; ')}; every other image: nothing`;
  }
}

function parseRule(part: string): EgressRule {
  const equals = part.indexOf('=');
  const pattern = equals > 0 ? part.slice(0, equals).trim() : '';
  if (!pattern) throw new Error(`HUB_EGRESS: rule "${part}" must look like image-pattern=destination,destination`);
  const rule: EgressRule = { pattern: familiarPattern(pattern, 'HUB_EGRESS'), destinations: [], repository: false };
  for (const written of part.slice(equals + 1).split(',').map((d) => d.trim()).filter(Boolean)) {
    if (written === REPOSITORY_EGRESS) {
      rule.repository = true;
      continue;
    }
    const parsed = parseEgressDestination(written);
    if (!parsed.ok) throw new Error(`HUB_EGRESS: rule "${part}": destination ${parsed.message}`);
    rule.destinations.push(parsed.destination);
  }
  return rule;
}

function dedupe(destinations: EgressDestination[]): EgressDestination[] {
  const seen = new Map(destinations.map((d) => [formatEgressDestination(d), d]));
  return [...seen.values()];
}
