import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads a service's configuration once, at boot, from the environment. A missing or malformed
 * variable stops the service with a message naming it.
 */
export function loadConfig<T extends z.ZodObject>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const known = Object.keys(schema.shape);
  const input = Object.fromEntries(known.map((key) => [key, emptyToUndefined(env[key])]));
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`),
    );
  }
  return result.data;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Variables every service reads. */
export const CommonConfigSchema = z.object({
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /** Who the service is on NATS (its own user, with the permissions the contracts give it); anonymous when unset. */
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  /**
   * How many copies JetStream keeps of each stream, object store and KV bucket a service creates: 1 on
   * one nats-server, 3 (or 5) on a cluster of at least that many nodes. An existing one with fewer is raised.
   */
  HUB_NATS_REPLICAS: z
    .enum(['1', '3', '5'], { error: 'must be 1, 3 or 5 (the copies JetStream keeps; 3 or 5 need a cluster of that many nodes)' })
    .default('1')
    .transform(Number),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where the service answers `GET /metrics` (Prometheus); unset or 0: nowhere of its own (the gateway serves it on its HTTP port). */
  HUB_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** The address the metrics listener binds: loopback unless told otherwise. */
  HUB_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
});

export const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** HUB_NATS_REPLICAS alone: what the messaging library reads where it creates streams and buckets. */
export const NatsReplicasConfigSchema = CommonConfigSchema.pick({ HUB_NATS_REPLICAS: true });
