import { z } from 'zod';
import { CommonConfigSchema } from '@hub/config';
import { DEFAULT_EGRESS, DEFAULT_RUNNER_LEASE_GRACE_SECONDS, EgressPolicy, ImageRefSchema } from '@hub/contracts';
import { DEFAULT_EVENTS_MAX_AGE_DAYS } from '@hub/messaging';
import { DEFAULT_MAX_ATTEMPTS } from '@hub/notifications';

export const RegistryConfigSchema = CommonConfigSchema.extend({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  HUB_DEFAULT_IMAGE: ImageRefSchema.default('hub/test-agent:latest'),
  /** The runners' allow-list, the same variable they read: a session in another image is refused when created. */
  HUB_ALLOWED_IMAGES: z.string().default('hub/*'),
  /**
   * The runners' egress policy, the same variable they read: a session asking to reach a destination
   * its image may not reach is refused when created.
   */
  HUB_EGRESS: z
    .string()
    .default(DEFAULT_EGRESS)
    .transform((spec, ctx) => {
      try {
        return new EgressPolicy(spec);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^HUB_EGRESS: /, '') });
        return z.NEVER;
      }
    }),
  HUB_DEFAULT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(3600),
  /** JSON file of session types: default image and preamble per type (see docs/session-types.md). */
  HUB_SESSION_TYPES_FILE: z.string().optional(),
  HUB_RETRY_BACKOFF_MS: z.coerce.number().int().min(0).max(600_000).default(1000),
  /**
   * A runner without a heartbeat for longer than this (and at least two of its heartbeat periods) loses
   * the sessions it holds: they go back to ready for other runners, their retries unspent (docs/scaling.md).
   */
  HUB_RUNNER_LEASE_GRACE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(DEFAULT_RUNNER_LEASE_GRACE_SECONDS),
  /** Orchestrations whose every session ended longer ago than this many days are deleted, outputs too; 0 keeps them forever. */
  HUB_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(30),
  /** How long the event stream (HUB_EVENTS) keeps an event, in days (its max_age, set as the registry starts); 0 keeps them forever. */
  HUB_EVENTS_MAX_AGE_DAYS: z.coerce.number().int().min(0).max(36_500).default(DEFAULT_EVENTS_MAX_AGE_DAYS),
  /** Outbound notifications: a JSON list of webhooks, inline or in a file (0600); read and checked by loadWebhooks. */
  HUB_WEBHOOKS: z.string().optional(),
  HUB_WEBHOOKS_FILE: z.string().optional(),
  HUB_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(DEFAULT_MAX_ATTEMPTS),
  /**
   * Per tenant: its limit on sessions in flight and the images it may run (TenantsConfigSchema), the
   * JSON inline or in a file; read and checked by loadTenantPolicies.
   */
  HUB_TENANTS: z.string().optional(),
  HUB_TENANTS_FILE: z.string().optional(),
  /** Where the generated API key pepper is kept (`api-key-pepper`, 0600) when HUB_API_KEY_PEPPER is unset. */
  HUB_STATE_DIR: z.string().min(1).default('.hub'),
  /** What API keys' secrets are hashed with (HMAC-SHA256); changing it invalidates every key. */
  HUB_API_KEY_PEPPER: z.string().min(32, 'must be at least 32 characters').regex(/^\S+$/, 'must not contain whitespace').optional(),
});
export type RegistryConfig = z.infer<typeof RegistryConfigSchema>;
