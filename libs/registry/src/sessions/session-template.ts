import { readFileSync } from 'node:fs';
import { DEFAULT_SESSION_TEMPLATES, describeIssues, SessionTemplates, SessionTemplatesSchema } from '@hub/contracts';
import { RegistrySettings } from '../registry.tokens';

/** The image a new session of `type` runs in when it names none. */
export function defaultImageFor(settings: RegistrySettings, type: string): string {
  return settings.templates[type]?.image ?? settings.defaultImage;
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
