// The few lines every example needs to call Hub's REST API: the base URL, the bearer token, and an
// error that says which call failed and what Hub answered.

/** States a session (or an orchestration's sessions) ends in. */
export const TERMINAL = ['completed', 'failed', 'cancelled', 'timed_out', 'skipped'];

export type HubRest = (path: string, init?: RequestInit) => Promise<Response>;

export function hubRest(baseUrl: string, token: string): HubRest {
  return async (path, init = {}) => {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${response.status} ${await response.text()}`);
    return response;
  };
}
