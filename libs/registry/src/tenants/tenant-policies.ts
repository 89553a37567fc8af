import { readFileSync } from 'node:fs';
import { describeIssues, ImagePolicy, TenantsConfigSchema } from '@hub/contracts';

/** What the operator set for one tenant (HUB_TENANTS); a tenant not listed has NO_TENANT_POLICY. */
export interface TenantPolicy {
  /** At most this many of its sessions in flight over all its orchestrations (ReadyDispatch); null: no limit of its own. */
  maxConcurrentSessions: number | null;
  /** The images it may run, within HUB_ALLOWED_IMAGES (checkImagesAllowed); null: what HUB_ALLOWED_IMAGES allows. */
  imagePolicy: ImagePolicy | null;
}

export type TenantPolicies = ReadonlyMap<string, TenantPolicy>;

export const NO_TENANT_POLICY: TenantPolicy = { maxConcurrentSessions: null, imagePolicy: null };

export function policyOf(policies: TenantPolicies, tenant: string): TenantPolicy {
  return policies.get(tenant) ?? NO_TENANT_POLICY;
}

/** Where the operator puts the tenants' settings: the JSON inline, or a file of it. */
export interface TenantSources {
  HUB_TENANTS?: string;
  HUB_TENANTS_FILE?: string;
}

/**
 * Reads and validates the tenants' settings (none when neither variable is set); anything wrong
 * throws, naming the variable, the tenant and the field, so the registry does not start with it.
 */
export function loadTenantPolicies(sources: TenantSources): TenantPolicies {
  const { HUB_TENANTS: inline, HUB_TENANTS_FILE: file } = sources;
  if (inline && file) throw new Error('HUB_TENANTS and HUB_TENANTS_FILE are both set: set one of them');
  if (!inline && !file) return new Map();
  const origin = file ? `HUB_TENANTS_FILE=${file}` : 'HUB_TENANTS';
  return parseTenantPolicies(file ? readText(file, origin) : inline!, origin);
}

/** The tenants' settings a JSON text holds, validated; throws naming `origin` and every problem. */
export function parseTenantPolicies(text: string, origin: string): TenantPolicies {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${origin} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = TenantsConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error).map(({ field, problem }, i) => {
      const issue = parsed.error.issues[i];
      const where = issue.code === 'unrecognized_keys' ? [...issue.path, field] : issue.path;
      return `${where.length ? where.map(String).join('.') : 'the settings'}: ${problem}`;
    });
    throw new Error(`${origin} is not valid: ${problems.join('; ')}`);
  }
  return new Map(
    Object.entries(parsed.data).map(([tenant, settings]) => [
      tenant,
      {
        maxConcurrentSessions: settings.maxConcurrentSessions ?? null,
        imagePolicy: settings.allowedImages ? new ImagePolicy(settings.allowedImages) : null,
      },
    ]),
  );
}

function readText(file: string, origin: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${origin} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
