/**
 * A destination an agent may reach through Hub's egress proxy: a host name (or an IPv4 address) and a
 * port. Written `host`, `host:port` or `host:*`; a host may start with `*.` to stand for every name
 * below it (`*.npmjs.org` is `registry.npmjs.org` and `a.b.npmjs.org`, not `npmjs.org`). Without a
 * port a destination is port 443 only (HTTPS, and what `CONNECT` asks for): plain HTTP on port 80 is
 * allowed only when named (`host:80`), any port only with `host:*`.
 */
export interface EgressDestination {
  /** Lower case, without a trailing dot; `*.suffix` for a wildcard. */
  host: string;
  /** A port, or `*` for any. */
  port: number | '*';
}

export const DEFAULT_EGRESS_PORT = 443;
/** The longest destination written (a 253-character name and a port, with room for `*.`). */
export const MAX_EGRESS_DESTINATION_LENGTH = 262;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export type EgressDestinationParse = { ok: true; destination: EgressDestination } | { ok: false; message: string };

/** Reads a destination as written in HUB_EGRESS or a session's `egress`, or says why it is not one. */
export function parseEgressDestination(text: string): EgressDestinationParse {
  const written = text.trim().toLowerCase();
  if (!written) return { ok: false, message: 'is empty: write host, host:port or host:*' };
  if (written.length > MAX_EGRESS_DESTINATION_LENGTH) return { ok: false, message: `is longer than ${MAX_EGRESS_DESTINATION_LENGTH} characters` };
  if (written.includes('/') || written.includes('@')) {
    return { ok: false, message: `"${text}" is not host[:port]: write the host name alone (api.example.com), not a URL` };
  }
  if (written.startsWith('[') || written.split(':').length > 2) {
    return { ok: false, message: `"${text}": IPv6 addresses cannot be allowed; name the host` };
  }
  const [rawHost, rawPort] = written.split(':');
  const port = parsePort(rawPort);
  if (port === null) return { ok: false, message: `"${text}" has port "${rawPort}": a port is 1-65535, or * for any` };
  const host = rawHost.endsWith('.') ? rawHost.slice(0, -1) : rawHost;
  const problem = hostProblem(host);
  if (problem) return { ok: false, message: `"${text}" ${problem}` };
  return { ok: true, destination: { host, port } };
}

/** `host:port` (`host:*`), the form Hub shows and stores. */
export function formatEgressDestination(destination: EgressDestination): string {
  return `${destination.host}:${destination.port}`;
}

/** Whether a connection to `host:port` goes to a destination the pattern names. */
export function egressDestinationMatches(pattern: EgressDestination, host: string, port: number): boolean {
  if (pattern.port !== '*' && pattern.port !== port) return false;
  return hostMatches(pattern.host, normalHost(host));
}

/** Whether every connection `inner` names is one `outer` names too (a session's ask within its image's allowance). */
export function egressDestinationCovers(outer: EgressDestination, inner: EgressDestination): boolean {
  if (outer.port !== '*' && outer.port !== inner.port) return false;
  if (!outer.host.startsWith('*.')) return outer.host === inner.host;
  const suffix = outer.host.slice(1);
  return inner.host.endsWith(suffix) || (inner.host.startsWith('*.') && inner.host.slice(1) === suffix);
}

/**
 * The git host of an https repository (`https://github.com/acme/x` → `github.com:443`); null for
 * anything else (a local path, ssh, plain http), which the agent has no business reaching.
 */
export function repositoryEgressDestination(repository: string | null): EgressDestination | null {
  if (!repository || !/^https:\/\//i.test(repository)) return null;
  try {
    const url = new URL(repository);
    const parsed = parseEgressDestination(url.port ? `${url.hostname}:${url.port}` : url.hostname);
    return parsed.ok ? parsed.destination : null;
  } catch {
    return null;
  }
}

function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
}

const normalHost = (host: string) => {
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
};

function parsePort(raw: string | undefined): number | '*' | null {
  if (raw === undefined) return DEFAULT_EGRESS_PORT;
  if (raw === '*') return '*';
  if (!/^\d{1,5}$/.test(raw)) return null;
  const port = Number(raw);
  return port >= 1 && port <= 65535 ? port : null;
}

function hostProblem(host: string): string | null {
  if (host === '*' || host === '*.') return 'allows every host: name the hosts (or *.domain)';
  const name = host.startsWith('*.') ? host.slice(2) : host;
  if (IPV4.test(name)) return host.startsWith('*.') ? 'puts a wildcard before an address' : null;
  if (name.length > 253) return 'has a host name longer than 253 characters';
  const labels = name.split('.');
  if (labels.some((label) => !LABEL.test(label))) {
    return 'is not a host name (letters, digits and "-" in dot-separated labels, optionally starting with "*.")';
  }
  if (host.startsWith('*.') && labels.length < 2) return 'allows a whole top-level domain: name at least two labels after "*."';
  return null;
}
