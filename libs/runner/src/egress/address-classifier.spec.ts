import { embeddedIPv4, refusedAddressReason } from './address-classifier';

describe('refusedAddressReason', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.255.254', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['169.254.169.254', 'the cloud metadata address'],
    ['169.254.0.1', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['febf:ffff::1', 'a link-local address'],
    ['10.0.0.1', 'a private address'],
    ['10.255.255.255', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['fc00::1', 'a private address'],
    ['fd12:3456::1', 'a private address'],
    ['fd00:ec2::254', 'the cloud metadata address'],
    ['100.64.0.1', 'a shared (carrier-grade NAT) address'],
    ['100.127.255.255', 'a shared (carrier-grade NAT) address'],
    ['0.0.0.0', 'an unspecified address'],
    ['0.1.2.3', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['224.0.0.1', 'a multicast address'],
    ['239.255.255.250', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['240.0.0.1', 'a reserved address'],
    ['255.255.255.255', 'a reserved address'],
  ])('refuses %s: %s', (address, reason) => {
    expect(refusedAddressReason(address)).toBe(reason);
  });

  it.each([
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:7f00:1', 'a loopback address'],
    ['::ffff:169.254.169.254', 'the cloud metadata address'],
    ['::ffff:a00:1', 'a private address'],
    ['::FFFF:192.168.0.1', 'a private address'],
    ['64:ff9b::10.0.0.1', 'a private address'],
    ['64:ff9b::a9fe:a9fe', 'the cloud metadata address'],
    ['::10.0.0.1', 'a private address'],
  ])('judges the IPv4 address inside %s: %s', (address, reason) => {
    expect(refusedAddressReason(address)).toBe(reason);
  });

  it.each(['1.1.1.1', '8.8.8.8', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '169.253.255.255', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    'lets %s through',
    (address) => {
      expect(refusedAddressReason(address)).toBeNull();
    },
  );

  it('refuses what is not an address at all', () => {
    expect(refusedAddressReason('example.com')).toBe('not an IP address');
    expect(refusedAddressReason('10.0.0.1.nip.io')).toBe('not an IP address');
  });

  it('reads the IPv4 address an IPv6 one carries, and only then', () => {
    expect(embeddedIPv4('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(embeddedIPv4('0:0:0:0:0:ffff:0102:0304')).toBe('1.2.3.4');
    expect(embeddedIPv4('64:ff9b::1.2.3.4')).toBe('1.2.3.4');
    expect(embeddedIPv4('::1')).toBeNull();
    expect(embeddedIPv4('::')).toBeNull();
    expect(embeddedIPv4('2001:db8::1')).toBeNull();
  });
});
