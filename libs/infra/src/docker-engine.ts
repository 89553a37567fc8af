import { request, type RequestOptions } from 'node:http';

/** Where the Docker engine API listens: a unix socket, or host:port for DOCKER_HOST=tcp://… */
export type DockerEndpoint = { socketPath: string } | { host: string; port: number };

const DEFAULT_SOCKET = '/var/run/docker.sock';
const FIX = 'Run `bash scripts/ensure-deps.sh` (installs docker.io if missing and starts dockerd)';

/** The engine endpoint from DOCKER_HOST (unix:// or tcp://), else /var/run/docker.sock. */
export function dockerEndpoint(dockerHost = process.env['DOCKER_HOST']): DockerEndpoint {
  if (!dockerHost) return { socketPath: DEFAULT_SOCKET };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (dockerHost.startsWith('/')) return { socketPath: dockerHost };
  const url = new URL(dockerHost.replace(/^tcp:\/\//, 'http://'));
  return { host: url.hostname, port: Number(url.port || 2375) };
}

function describe(endpoint: DockerEndpoint): string {
  return 'socketPath' in endpoint ? `unix://${endpoint.socketPath}` : `tcp://${endpoint.host}:${endpoint.port}`;
}

/**
 * Pings the Docker engine (GET /_ping) and throws an Error saying what is wrong and how to fix it
 * when it does not answer OK.
 */
export async function assertDockerReachable(timeoutMs = 5_000): Promise<void> {
  const endpoint = dockerEndpoint();
  const where = describe(endpoint);
  let result: { status: number; body: string };
  try {
    result = await get({ ...endpoint, path: '/_ping', method: 'GET' }, timeoutMs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? `the socket does not exist: the Docker engine (dockerd) is not running or not installed`
        : code === 'ECONNREFUSED'
          ? `connection refused: dockerd is not running (stale socket)`
          : code === 'EACCES'
            ? `permission denied: run as root or add your user to the "docker" group`
            : (err as Error).message;
    throw new Error(`Docker engine not reachable at ${where}: ${reason}. ${FIX}.`);
  }
  if (result.status !== 200) {
    throw new Error(
      `Docker engine at ${where} answered /_ping with HTTP ${result.status} (${result.body.trim().slice(0, 200)}). ${FIX}.`,
    );
  }
}

function get(options: RequestOptions, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

/**
 * The ids of the running containers labelled `label=value` (the runner's sessions and helpers carry
 * `hub.runner=<runner id>`), as the engine lists them; an engine that does not answer: null.
 */
export async function runningContainersLabelled(label: string, value: string, timeoutMs = 5_000): Promise<string[] | null> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${label}=${value}`], status: ['running'] }));
  const endpoint = dockerEndpoint();
  return new Promise((resolve) => {
    const req = request({ ...endpoint, path: `/containers/json?filters=${filters}`, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Id: string }[]).map((c) => c.Id) : null);
        } catch {
          resolve(null);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}
