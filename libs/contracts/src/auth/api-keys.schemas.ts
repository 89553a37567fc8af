import { z } from 'zod';
import { HubError } from '../rpc/rpc-result';
import { PageQueryFields } from '../sessions/session.schemas';
import { CallerSchema, KeyNameSchema, type Scope, ScopeSchema, TenantSchema } from './caller';

/**
 * API keys: many, each with a name, a scope and a tenant, kept by the registry as a hash only. A key's
 * token is `hub_<its id, without dashes>_<43 characters: 32 random bytes, base64url>`; it is shown
 * once, when the key is created. The bootstrap token (HUB_API_TOKEN, or the state dir's api-token) is
 * no such key: the gateway compares it itself, as the admin key `bootstrap` of the default tenant.
 */

export const API_KEY_TOKEN_PREFIX = 'hub_';

/** `hub_` + 32 hex digits (the id) + `_` + 43 base64url characters (the secret). */
export const API_KEY_TOKEN_PATTERN = /^hub_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

/** Names the gateway gives callers that are no stored key: never a stored key's. */
export const RESERVED_KEY_NAMES = ['bootstrap', 'claude-hub'] as const;

export const ApiKeyIdSchema = z.uuid({ message: 'must be an API key id (a UUID)' });

/** A key as it is listed: never its token, nor its hash. */
export const ApiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  scope: ScopeSchema,
  tenant: z.string(),
  createdAt: z.string(),
  /** The name of the key that created it. */
  createdBy: z.string(),
  revokedAt: z.string().nullable(),
  /** When it was last used, to the minute (updated at most once a minute). */
  lastUsedAt: z.string().nullable(),
});
export type ApiKey = z.infer<typeof ApiKeySchema>;

/** A key just created: its token is in this answer only. */
export const CreatedApiKeySchema = ApiKeySchema.extend({ token: z.string() });
export type CreatedApiKey = z.infer<typeof CreatedApiKeySchema>;

/** `POST /api/v1/keys`: its tenant defaults to the creating key's. */
export const CreateApiKeyRequestSchema = z.strictObject({
  name: KeyNameSchema.refine((name) => !(RESERVED_KEY_NAMES as readonly string[]).includes(name), {
    message: `must not be ${RESERVED_KEY_NAMES.join(' or ')}: the gateway names its own callers so`,
  }),
  scope: ScopeSchema,
  tenant: TenantSchema.optional(),
});
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequestSchema>;

/** `GET /api/v1/keys`: newest first, revoked keys too; `tenant` keeps that tenant's. */
export const ListApiKeysQuerySchema = z.strictObject({ tenant: TenantSchema.optional(), ...PageQueryFields });
export type ListApiKeysQuery = z.infer<typeof ListApiKeysQuerySchema>;

export const ApiKeyPageSchema = z.object({ items: z.array(ApiKeySchema), nextCursor: z.string().nullable() });
export type ApiKeyPage = z.infer<typeof ApiKeyPageSchema>;

export const ApiKeyRefSchema = z.strictObject({ id: ApiKeyIdSchema });

/** What the gateway asks of every request with a `hub_` token: who is it, if anyone (null: unknown or revoked). */
export const VerifyApiKeyRequestSchema = z.strictObject({ token: z.string().max(256) });
export const VerifyApiKeyResponseSchema = z.object({ caller: CallerSchema.nullable() });

// ---- the audit log -------------------------------------------------------------------------------

/** One write, as the registry did it: who (the key's name and tenant), what, on what. */
export const AuditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  key: z.string(),
  tenant: z.string(),
  /** What was done: the request's subject without `hub.registry.` (`sessions.create`, `keys.revoke`, …). */
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  /** A few fields of the request worth keeping (never a prompt nor a token). */
  detail: z.record(z.string(), z.unknown()).nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** `GET /api/v1/audit`: newest first; every tenant's entries, or one's. */
export const ListAuditQuerySchema = z.strictObject({
  tenant: TenantSchema.optional(),
  key: KeyNameSchema.optional(),
  action: z
    .string()
    .regex(/^[a-z]+\.[a-z-]+$/, 'must be an action such as sessions.create')
    .optional(),
  ...PageQueryFields,
});
export type ListAuditQuery = z.infer<typeof ListAuditQuerySchema>;

export const AuditPageSchema = z.object({ items: z.array(AuditEntrySchema), nextCursor: z.string().nullable() });
export type AuditPage = z.infer<typeof AuditPageSchema>;

/** The refusal of a request the caller's key may not make (its scope), worded alike by every entrance. */
export function forbidden(scope: Scope, needed: Scope, what: string): HubError {
  return new HubError('forbidden', `this key (${scope}) may not ${what}: it needs the ${needed} scope`);
}
