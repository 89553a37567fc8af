import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type EgressDestination, egressDestinationMatches } from '@hub/contracts';
import { refusedAddressReason } from './address-classifier';
import type { EgressOverride } from './egress-overrides';

/** What an agent asked the proxy to reach. */
export interface EgressRequest {
  host: string;
  port: number;
}

/** Let through, to this checked address (never the name again: what DNS says next does not matter), or refused and why. */
export type EgressDecision = { allowed: true; address: string; port: number } | { allowed: false; reason: string };

/** Every address a name resolves to (dns.promises.lookup with `all`). */
export type EgressLookup = (host: string) => Promise<{ address: string }[]>;

export const NOT_ALLOWED = "not in this session's allow-list";
const LOOKUP_TIMEOUT_MS = 5_000;

export const systemLookup: EgressLookup = (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * Decides, before any packet leaves for it, whether a connection may go: the destination must be on
 * the session's allow-list; a name given an address in HUB_EGRESS_RESOLVE goes there; any other is
 * resolved here, and refused when any of its addresses is one the proxy never reaches (loopback,
 * link-local, private, …: a public name pointed at the LAN or the metadata service is refused too).
 */
export async function decideEgress(
  request: EgressRequest,
  allowList: readonly EgressDestination[],
  overrides: ReadonlyMap<string, EgressOverride>,
  lookup: EgressLookup,
): Promise<EgressDecision> {
  const host = normalHost(request.host);
  if (!allowList.some((destination) => egressDestinationMatches(destination, host, request.port))) {
    return { allowed: false, reason: NOT_ALLOWED };
  }
  const override = overrides.get(host);
  if (override) return { allowed: true, address: override.address, port: override.port ?? request.port };
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await withTimeout(lookup(host), LOOKUP_TIMEOUT_MS)).map((a) => a.address);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { allowed: false, reason: `its name does not resolve (${code})` };
  }
  if (!addresses.length) return { allowed: false, reason: 'its name resolves to no address' };
  for (const address of addresses) {
    const why = refusedAddressReason(address);
    if (why) return { allowed: false, reason: address === host ? why : `resolves to ${address}, ${why}` };
  }
  return { allowed: true, address: addresses[0], port: request.port };
}

/** `[::1]` → `::1`, `Example.COM.` → `example.com`. */
export function normalHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('ETIMEOUT'), { code: 'ETIMEOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
