/** What the janitor is given (JANITOR_SETTINGS). */
export interface JanitorSettings {
  /** This deployment's id (the `hub.installation` label): the janitor looks at no other container. */
  installationId: string;
  /** How often it passes (HUB_JANITOR_INTERVAL_SECONDS), also as the runner starts; 0: never. */
  intervalMs: number;
  /** How long a container or directory must have been left before it goes (HUB_JANITOR_GRACE_SECONDS). */
  graceMs: number;
}

export const JANITOR_SETTINGS = Symbol('JANITOR_SETTINGS');
/** The engine as the janitor sees it: an `InstallationContainers`. */
export const INSTALLATION_CONTAINERS = Symbol('INSTALLATION_CONTAINERS');

export const DEFAULT_JANITOR_INTERVAL_SECONDS = 600;
export const DEFAULT_JANITOR_GRACE_SECONDS = 3600;
