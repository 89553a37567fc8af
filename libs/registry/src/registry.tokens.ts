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
}
