/** Every session route lives under this prefix; `/health/*` does not. */
export const API_PREFIX = 'api/v1';

/** `git fetch` from Hub is served under this prefix: `/git/<orchestrationId>.git`. */
export const GIT_HTTP_PREFIX = 'git';

/** The directory of the orchestrations' repositories served by `git fetch` (`<HUB_STATE_DIR>/git`), absolute. */
export const GIT_REPOSITORIES_DIR = Symbol('GIT_REPOSITORIES_DIR');
