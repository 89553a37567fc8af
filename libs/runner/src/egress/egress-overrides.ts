import { isIP } from 'node:net';
import { parseEgressDestination } from '@hub/contracts';

/** Where the proxy connects for a name, instead of where DNS says: an address, and a port (else the one asked for). */
export interface EgressOverride {
  address: string;
  port: number | null;
}

/**
 * HUB_EGRESS_RESOLVE: `name=address[:port],…` (like curl's --resolve). The proxy connects to that
 * address for that name without asking DNS, and only there may it reach an address it otherwise
 * refuses (loopback, private, link-local): tests point `api.test.invalid` at a local server this way,
 * and an operator can point a name at an internal mirror. A name must still be allowed (HUB_EGRESS).
 */
export function parseEgressOverrides(spec: string): Map<string, EgressOverride> {
  const overrides = new Map<string, EgressOverride>();
  for (const entry of spec.split(',').map((e) => e.trim()).filter(Boolean)) {
    const equals = entry.indexOf('=');
    const name = parseEgressDestination(entry.slice(0, Math.max(0, equals)));
    const target = parseTarget(entry.slice(equals + 1).trim());
    if (equals <= 0 || !name.ok || name.destination.host.startsWith('*.') || !target) {
      throw new Error(`HUB_EGRESS_RESOLVE: "${entry}" must look like name=address or name=address:port (e.g. api.test.invalid=127.0.0.1:8443)`);
    }
    overrides.set(name.destination.host, target);
  }
  return overrides;
}

/** `10.1.2.3`, `10.1.2.3:8443`, `[fd00::1]:8443` or `fd00::1`. */
function parseTarget(text: string): EgressOverride | null {
  const [, address, port] = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/i.exec(text) ?? /^([0-9.]+)(?::(\d{1,5}))?$/.exec(text) ?? [text, text];
  const portNumber = port === undefined ? null : Number(port);
  if (isIP(address) === 0 || (portNumber !== null && (portNumber < 1 || portNumber > 65535))) return null;
  return { address, port: portNumber };
}
