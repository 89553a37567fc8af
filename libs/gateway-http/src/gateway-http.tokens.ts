/** Every session route lives under this prefix; `/health/*` does not. */
export const API_PREFIX = 'api/v1';
