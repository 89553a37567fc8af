import { z } from 'zod';
import { CommonConfigSchema } from '@hub/config';
import { DEFAULT_TENANT, TenantSchema } from '@hub/contracts';
import { DEFAULT_TENANT_REQUESTS_PER_MINUTE, parseTenantRates } from '@hub/gateway-http';

export const GatewayConfigSchema = CommonConfigSchema.extend({
  HUB_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HUB_HOST: z.string().min(1).default('127.0.0.1'),
  /** When unset, the token is read from (or generated into) `<HUB_STATE_DIR>/api-token`. */
  HUB_API_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .regex(/^\S+$/, 'must not contain whitespace')
    .optional(),
  HUB_STATE_DIR: z.string().min(1).default('.hub'),
  HUB_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** claude-hub's webhook secret: its clients send it as the bearer token of the claude-hub endpoint (caller `claude-hub`, write). */
  CLAUDE_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').regex(/^\S+$/, 'must not contain whitespace').optional(),
  /** The tenant of the claude-hub caller (CLAUDE_WEBHOOK_SECRET). */
  HUB_CLAUDE_WEBHOOK_TENANT: TenantSchema.default(DEFAULT_TENANT),
  /** Requests a minute per tenant: `6000`, or with tenants of their own, `6000,team-a=600`. */
  HUB_TENANT_REQUESTS_PER_MINUTE: z
    .string()
    .default(String(DEFAULT_TENANT_REQUESTS_PER_MINUTE))
    .transform((spec, ctx) => {
      try {
        return parseTenantRates(spec);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
});
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
