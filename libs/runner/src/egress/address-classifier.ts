import { BlockList, isIP } from 'node:net';

/**
 * The addresses Hub's egress proxy never connects to on a name's say-so: the runner's own machine
 * (loopback), its local link (169.254.0.0/16, where clouds serve instance metadata and credentials at
 * 169.254.169.254; fe80::/10), private and carrier-grade NAT ranges (the LAN, the cloud's VPC), and
 * addresses that are no single host (unspecified, multicast, reserved). An IPv4 address written as
 * IPv6 (::ffff:10.0.0.1, NAT64's 64:ff9b::/96, the deprecated ::10.0.0.1) is judged as the IPv4
 * address it carries.
 */
const RANGES: { reason: string; v4?: [string, number][]; v6?: [string, number][] }[] = [
  { reason: 'a loopback address', v4: [['127.0.0.0', 8]], v6: [['::1', 128]] },
  { reason: 'the cloud metadata address', v4: [['169.254.169.254', 32]], v6: [['fd00:ec2::254', 128]] },
  { reason: 'a link-local address', v4: [['169.254.0.0', 16]], v6: [['fe80::', 10]] },
  {
    reason: 'a private address',
    v4: [
      ['10.0.0.0', 8],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
    ],
    v6: [
      ['fc00::', 7],
      ['fec0::', 10],
    ],
  },
  { reason: 'a shared (carrier-grade NAT) address', v4: [['100.64.0.0', 10]] },
  { reason: 'an unspecified address', v4: [['0.0.0.0', 8]], v6: [['::', 128]] },
  { reason: 'a multicast address', v4: [['224.0.0.0', 4]], v6: [['ff00::', 8]] },
  { reason: 'a reserved address', v4: [['240.0.0.0', 4]] },
];

const LISTS = RANGES.map(({ reason, v4 = [], v6 = [] }) => {
  const list = new BlockList();
  for (const [network, prefix] of v4) list.addSubnet(network, prefix, 'ipv4');
  for (const [network, prefix] of v6) list.addSubnet(network, prefix, 'ipv6');
  return { reason, list };
});

/** Why the proxy may not connect to this address (`a private address`), or null when it may. Anything that is not an IP address is refused. */
export function refusedAddressReason(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const embedded = family === 6 ? embeddedIPv4(address) : null;
  const [checked, type] = embedded ? [embedded, 'ipv4' as const] : [address, family === 4 ? ('ipv4' as const) : ('ipv6' as const)];
  return LISTS.find(({ list }) => list.check(checked, type))?.reason ?? null;
}

/** The IPv4 address an IPv6 one carries (mapped, NAT64, compatible), or null. */
export function embeddedIPv4(address: string): string | null {
  const groups = expandIPv6(address);
  if (!groups) return null;
  const high = groups.slice(0, 6);
  const zeros = (n: number) => high.slice(0, n).every((g) => g === 0);
  const mapped = zeros(5) && high[5] === 0xffff;
  const nat64 = high[0] === 0x64 && high[1] === 0xff9b && high.slice(2).every((g) => g === 0);
  // ::a.b.c.d, but not :: or ::1 (unspecified and loopback are IPv6's own).
  const compatible = zeros(6) && (groups[6] !== 0 || groups[7] > 1);
  if (!mapped && !nat64 && !compatible) return null;
  return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted quad and `::` allowed), or null. */
function expandIPv6(address: string): number[] | null {
  let text = address.toLowerCase().split('%')[0];
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const first = parse(head);
  const last = parse(tail);
  const groups = tail === undefined ? first : [...first, ...Array(8 - first.length - last.length).fill(0), ...last];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}
