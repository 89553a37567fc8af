export const REGISTRY_SETTINGS = Symbol('REGISTRY_SETTINGS');

import type { EgressPolicy, ImagePolicy, SessionTemplates } from '@hub/contracts';
import type { TenantPolicies } from './tenants/tenant-policies';

export interface RegistrySettings {
  defaultImage: string;
  /** The images the runners run (HUB_ALLOWED_IMAGES): a session in any other is refused when created. */
  imagePolicy: ImagePolicy;
  /** What each image's sessions may reach through the runners' egress proxy (HUB_EGRESS): a session asking for more is refused when created. */
  egressPolicy: EgressPolicy;
  /** Per session type: default image and preamble. */
  templates: SessionTemplates;
  defaultTimeoutSeconds: number;
  /** Per tenant (HUB_TENANTS): its limit on sessions in flight and the images it may run, within imagePolicy. */
  tenants: TenantPolicies;
  /** First retry's delay; each further retry waits twice as long (capped at 5 minutes). */
  retryBackoffMs: number;
  /**
   * HUB_RUNNER_LEASE_GRACE_SECONDS: a runner silent (no heartbeat) for longer loses the sessions it
   * holds to the other runners (default DEFAULT_RUNNER_LEASE_GRACE_SECONDS).
   */
  leaseGraceSeconds?: number;
  /** What is kept how long; absent: everything forever, and the event stream's age left as it is. */
  retention?: RetentionSettings;
}

export interface RetentionSettings {
  /**
   * HUB_RETENTION_DAYS: orchestrations whose every session ended longer ago are deleted, outputs too,
   * `batchSize` (default DEFAULT_RETENTION_BATCH) at a time. 0: kept forever.
   */
  days: number;
  batchSize?: number;
  /**
   * HUB_EVENTS_MAX_AGE_DAYS: how long the event stream keeps an event (0: forever), set as the registry
   * starts (absent: left as it is); the outbox keeps relayed events as long.
   */
  eventsMaxAgeDays?: number;
}
