import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
const DEFAULT_TCP_PORT = 2375;
/** The port Docker's TLS endpoint listens on by convention: TLS is implied there, as dockerode and the docker CLI take it. */
const TLS_PORT = 2376;

/**
 * TLS to a tcp:// engine, as the docker CLI and dockerode read it from DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH: TLS when `tlsVerify` is set (`1`; not `0` or `false`) or the port is 2376, the engine's certificate checked
 * against `<certPath>/ca.pem` and this client's `<certPath>/cert.pem` and `key.pem` shown (certPath
 * default ~/.docker).
 */
export interface DockerTls {
  tlsVerify?: string;
  certPath?: string;
}

/**
 * A dockerode client for DOCKER_HOST-style addresses: `unix:///path/docker.sock` (or a bare
 * absolute path), `tcp://host:port` (TLS per `tls`); without one, /var/run/docker.sock.
 * No client-wide timeout: `wait` legitimately blocks for as long as the session runs.
 */
export function createDockerClient(dockerHost?: string, tls: DockerTls = {}): Docker {
  return new Docker(dockerOptions(dockerHost, tls));
}

export function dockerOptions(dockerHost?: string, tls: DockerTls = {}): Docker.DockerOptions {
  const address = dockerHost?.trim();
  if (!address) return { socketPath: DEFAULT_DOCKER_SOCKET };
  if (address.startsWith('/')) return { socketPath: address };
  if (address.startsWith('unix://')) return { socketPath: address.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET };
  if (address.startsWith('tcp://')) {
    const url = new URL(address.replace(/^tcp:/, 'http:'));
    const port = Number(url.port || DEFAULT_TCP_PORT);
    if (!tlsAsked(tls.tlsVerify) && port !== TLS_PORT) return { protocol: 'http', host: url.hostname, port };
    const certPath = tls.certPath?.trim() || join(homedir(), '.docker');
    const read = (file: string) => {
      try {
        return readFileSync(join(certPath, file));
      } catch (error) {
        throw new Error(`DOCKER_HOST=${address} with TLS: cannot read ${join(certPath, file)} (DOCKER_CERT_PATH): ${(error as Error).message}`);
      }
    };
    return { protocol: 'https', host: url.hostname, port, ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
  }
  throw new Error(`DOCKER_HOST=${address} is not supported: use unix:///path/to/docker.sock or tcp://host:port`);
}

/** DOCKER_TLS_VERIFY set, as the docker CLI reads it: any value but empty, `0` or `false`. */
function tlsAsked(tlsVerify: string | undefined): boolean {
  const value = tlsVerify?.trim().toLowerCase();
  return !!value && value !== '0' && value !== 'false';
}

/** Where a client connects, for error messages: unix:///… or tcp://host:port (https when TLS). */
export function describeDockerEndpoint(docker: Docker): string {
  const modem = docker.modem as { socketPath?: string; host?: string; port?: string | number; protocol?: string };
  if (modem.socketPath) return `unix://${modem.socketPath}`;
  return `tcp://${modem.host}:${modem.port}${modem.protocol === 'https' ? ' (TLS)' : ''}`;
}
