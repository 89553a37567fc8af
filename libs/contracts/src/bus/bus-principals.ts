/** The four Hub services: each connects to NATS as its own user. */
export const BUS_SERVICES = ['session-registry', 'dependency-resolver', 'container-runner', 'gateway'] as const;
export type BusService = (typeof BUS_SERVICES)[number];

/** Who may connect to NATS at all: the services, and integrations (read-only on HUB_EVENTS). */
export const BUS_PRINCIPALS = [...BUS_SERVICES, 'integrations'] as const;
export type BusPrincipal = (typeof BUS_PRINCIPALS)[number];

export function isBusPrincipal(name: string): name is BusPrincipal {
  return (BUS_PRINCIPALS as readonly string[]).includes(name);
}

/**
 * The prefix of a principal's reply subjects (its connection's `inboxPrefix`): each may subscribe
 * only to its own, so no one reads the answers another service asked for.
 */
export const busInboxPrefix = (principal: BusPrincipal): string => `_INBOX.${principal}`;
