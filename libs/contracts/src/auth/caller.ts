import { z } from 'zod';

/**
 * Who asks: the API key a request came with (its name), the tenant it belongs to and what it may do.
 * The gateway resolves it from the request's credentials and sends it with every request/reply to
 * the registry that reads or writes a tenant's data (the CALLER_HEADER of `tenantScoped` subjects);
 * the registry answers only from that tenant, and records the key's name in its audit log.
 */
export const API_KEY_SCOPES = ['read', 'write', 'admin'] as const;
export const ScopeSchema = z.enum(API_KEY_SCOPES, { message: `must be one of ${API_KEY_SCOPES.join(', ')}` });
export type Scope = z.infer<typeof ScopeSchema>;

/** A tenant's name: lower-case letters, digits and dashes, as in a DNS label. */
export const TenantSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be 1-63 lower-case letters, digits or dashes, not starting or ending with a dash');
export type Tenant = z.infer<typeof TenantSchema>;

/** The tenant of everything made before tenants existed, and of the bootstrap key. */
export const DEFAULT_TENANT = 'default';

/** An API key's name: what the audit log and the key list show. */
export const KeyNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit');

export const CallerSchema = z.strictObject({ key: KeyNameSchema, tenant: TenantSchema, scope: ScopeSchema });
export type Caller = z.infer<typeof CallerSchema>;

/** The NATS header that carries the Caller (JSON) on a tenant-scoped request. */
export const CALLER_HEADER = 'Hub-Caller';

/** What each scope may do: read, read and write, or everything (keys, the audit log) too. */
export function scopeAllows(scope: Scope, needed: Scope): boolean {
  return API_KEY_SCOPES.indexOf(scope) >= API_KEY_SCOPES.indexOf(needed);
}
