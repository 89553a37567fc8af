import { z } from 'zod';
import { CommonConfigSchema } from '@hub/config';

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
});
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
