export const RESOLVER_SETTINGS = Symbol('RESOLVER_SETTINGS');

export interface ResolverSettings {
  /** How often every waiting session is re-decided (also once at start), in case an event was missed. */
  recheckIntervalMs: number;
}
