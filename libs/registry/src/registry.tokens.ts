export const REGISTRY_SETTINGS = Symbol('REGISTRY_SETTINGS');

import type { ImagePolicy, SessionTemplates } from '@hub/contracts';

export interface RegistrySettings {
  defaultImage: string;
  /** The images the runners run (HUB_ALLOWED_IMAGES): a session in any other is refused when created. */
  imagePolicy: ImagePolicy;
  /** Per session type: default image and preamble. */
  templates: SessionTemplates;
  defaultTimeoutSeconds: number;
  /** First retry's delay; each further retry waits twice as long (capped at 5 minutes). */
  retryBackoffMs: number;
}
