import { z } from 'zod';
import { ImagePolicy } from '../sessions/image-allow-list';
import { TenantSchema } from './caller';

/**
 * What the operator sets per tenant (HUB_TENANTS, the JSON inline, or HUB_TENANTS_FILE), read by the
 * session-registry at start: `{ "team-a": { "maxConcurrentSessions": 4, "allowedImages": "hub/*" } }`.
 * A tenant not listed has no limit of its own and runs what HUB_ALLOWED_IMAGES allows.
 */
export const TenantSettingsSchema = z.strictObject({
  /** At most this many of its sessions in flight (handed to the runners, starting or running), over all its orchestrations. */
  maxConcurrentSessions: z.number().int().min(1).max(100_000).optional(),
  /**
   * The images its sessions may run, as HUB_ALLOWED_IMAGES writes them (`hub/*,ghcr.io/acme/agent:1.*`):
   * within HUB_ALLOWED_IMAGES, never beyond it (an image must be on both).
   */
  allowedImages: z
    .string()
    .superRefine((list, ctx) => {
      if (!list.split(',').some((pattern) => pattern.trim())) {
        ctx.addIssue({ code: 'custom', message: 'must name at least one image pattern (leave it out for HUB_ALLOWED_IMAGES)' });
        return;
      }
      try {
        new ImagePolicy(list);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^HUB_ALLOWED_IMAGES: /, '') });
      }
    })
    .optional(),
});
export type TenantSettings = z.infer<typeof TenantSettingsSchema>;

/** Every tenant the operator sets something for, by name. */
export const TenantsConfigSchema = z.record(TenantSchema, TenantSettingsSchema, {
  error: (issue) => (issue.code === 'invalid_key' ? `is not a tenant's name: ${issue.issues[0]?.message ?? 'invalid'}` : undefined),
});
export type TenantsConfig = z.infer<typeof TenantsConfigSchema>;
