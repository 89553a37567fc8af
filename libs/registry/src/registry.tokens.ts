export const REGISTRY_SETTINGS = Symbol('REGISTRY_SETTINGS');

import type { SessionTemplates } from '@hub/contracts';

export interface RegistrySettings {
  defaultImage: string;
  /** Per session type: default image and preamble. */
  templates: SessionTemplates;
  defaultTimeoutSeconds: number;
  /** First retry's delay; each further retry waits twice as long (capped at 5 minutes). */
  retryBackoffMs: number;
}
