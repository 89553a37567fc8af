/** Every session route lives under this prefix; `/health/*` does not. */
export const API_PREFIX = 'api/v1';

/** Injection token for the gateway's pino logger. */
export const GATEWAY_LOGGER = Symbol('GATEWAY_LOGGER');
