import { readFileSync } from 'node:fs';
import {
  badRequest,
  DEFAULT_SESSION_TEMPLATES,
  describeIssues,
  formatEgressDestination,
  ImagePolicy,
  SessionTemplates,
  SessionTemplatesSchema,
} from '@hub/contracts';
import { RegistrySettings } from '../registry.tokens';
import { policyOf } from '../tenants/tenant-policies';

/** The image a new session of `type` runs in when it names none. */
export function defaultImageFor(settings: RegistrySettings, type: string): string {
  return settings.templates[type]?.image ?? settings.defaultImage;
}

/** At most this many sessions with a refused image are named in the error. */
const NAMED = 20;

/**
 * Refuses (400, nothing stored) sessions whose image no runner would run (HUB_ALLOWED_IMAGES), naming
 * them, rather than letting them fail later with image_not_allowed; then those whose image the
 * tenant may not run (its `allowedImages` in HUB_TENANTS), naming the tenant's allow-list.
 */
export function checkImagesAllowed(
  settings: RegistrySettings,
  sessions: readonly { name: string | null; image: string }[],
  tenant: string,
): void {
  refuseImages(sessions, settings.imagePolicy, `image not on the runners' allow-list (HUB_ALLOWED_IMAGES=${settings.imagePolicy.allowList})`);
  const own = policyOf(settings.tenants, tenant).imagePolicy;
  if (own) refuseImages(sessions, own, `image not on tenant ${tenant}'s allow-list (allowedImages=${own.allowList})`);
}

function refuseImages(sessions: readonly { name: string | null; image: string }[], policy: ImagePolicy, why: string): void {
  const refused = sessions.filter((s) => !policy.allows(s.image));
  if (!refused.length) return;
  const named = refused.slice(0, NAMED).map((s) => (s.name ? `${s.name} (${s.image})` : s.image));
  const more = refused.length > NAMED ? ` and ${refused.length - NAMED} more` : '';
  throw badRequest(`${why}: ${named.join(', ')}${more}`, {
    notAllowed: refused.slice(0, NAMED).map((s) => ({ session: s.name, image: s.image })),
  });
}

/**
 * Refuses (400, nothing stored) sessions that ask to reach a destination their image may not reach
 * (HUB_EGRESS, the runners' own setting), naming the destination and what the image is allowed.
 */
export function checkEgressAllowed(
  settings: RegistrySettings,
  sessions: readonly { name: string | null; image: string; repository: string | null; egress: readonly string[] | null }[],
): void {
  const refused = sessions.flatMap((s) => {
    if (!s.egress) return [];
    const { refused } = settings.egressPolicy.sessionAllows(s.image, s.repository, s.egress);
    return refused.map((destination) => ({ session: s, destination }));
  });
  if (!refused.length) return;
  const named = refused.slice(0, NAMED).map(({ session, destination }) => {
    const allowance = settings.egressPolicy.imageAllows(session.image, session.repository).map(formatEgressDestination);
    const who = session.name ? `${session.name} (${session.image})` : session.image;
    return `${destination} for ${who}, which may reach ${allowance.length ? allowance.join(', ') : 'nothing'}`;
  });
  const more = refused.length > NAMED ? ` and ${refused.length - NAMED} more` : '';
  throw badRequest(`egress: destination not allowed (HUB_EGRESS): ${named.join('; ')}${more}`, {
    notAllowed: refused.slice(0, NAMED).map(({ session, destination }) => ({ session: session.name, image: session.image, destination })),
  });
}

/** The preamble the agent of a session of `type` receives before its prompt. */
export function preambleFor(settings: RegistrySettings, type: string): string {
  return settings.templates[type]?.preamble ?? '';
}

/**
 * The templates in effect: the seed types' defaults, overridden type by type by the JSON file at
 * `path` (`{ "review": { "image": "hub/claude-code:latest", "preamble": "..." } }`), if given.
 */
export function loadSessionTemplates(path: string | undefined): SessionTemplates {
  if (!path) return DEFAULT_SESSION_TEMPLATES;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`HUB_SESSION_TYPES_FILE=${path} cannot be read as JSON: ${(error as Error).message}`);
  }
  const parsed = SessionTemplatesSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error).map((p) => `${p.field}: ${p.problem}`);
    throw new Error(`HUB_SESSION_TYPES_FILE=${path} is not valid: ${problems.join('; ')}`);
  }
  return { ...DEFAULT_SESSION_TEMPLATES, ...parsed.data };
}
