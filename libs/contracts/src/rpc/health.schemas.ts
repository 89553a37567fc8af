import { z } from 'zod';

export const HealthCheckSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
  fix: z.string().optional(),
});
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

export const HealthReportSchema = z.object({
  service: z.string(),
  checks: z.array(HealthCheckSchema),
});
export type HealthReport = z.infer<typeof HealthReportSchema>;

/** What `/health/ready` answers (200 when every check passed, 503 otherwise): every check, each with what is wrong and how to fix it. */
export const ReadinessReportSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.array(HealthCheckSchema),
});
export type ReadinessReport = z.infer<typeof ReadinessReportSchema>;

/** What `/health/live` answers while the process serves requests. */
export const LivenessSchema = z.object({ status: z.literal('ok') });
