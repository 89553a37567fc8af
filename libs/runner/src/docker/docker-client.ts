import Docker from 'dockerode';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
const DEFAULT_TCP_PORT = 2375;

/**
 * A dockerode client for DOCKER_HOST-style addresses: `unix:///path/docker.sock` (or a bare
 * absolute path), `tcp://host:port`; without one, /var/run/docker.sock.
 * No client-wide timeout: `wait` legitimately blocks for as long as the session runs.
 */
export function createDockerClient(dockerHost?: string): Docker {
  return new Docker(dockerOptions(dockerHost));
}

export function dockerOptions(dockerHost?: string): Docker.DockerOptions {
  const address = dockerHost?.trim();
  if (!address) return { socketPath: DEFAULT_DOCKER_SOCKET };
  if (address.startsWith('/')) return { socketPath: address };
  if (address.startsWith('unix://')) return { socketPath: address.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET };
  if (address.startsWith('tcp://')) {
    const url = new URL(address.replace(/^tcp:/, 'http:'));
    return { protocol: 'http', host: url.hostname, port: Number(url.port || DEFAULT_TCP_PORT) };
  }
  throw new Error(`DOCKER_HOST=${address} is not supported: use unix:///path/to/docker.sock or tcp://host:port`);
}

/** Where a client connects, for error messages: unix:///… or tcp://host:port. */
export function describeDockerEndpoint(docker: Docker): string {
  const modem = docker.modem as { socketPath?: string; host?: string; port?: string | number };
  return modem.socketPath ? `unix://${modem.socketPath}` : `tcp://${modem.host}:${modem.port}`;
}
