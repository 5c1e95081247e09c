import ipaddr from 'ipaddr.js';

/** Why an address may not be fetched, or `undefined` when it is a public unicast address. */
export function unsafeAddressReason(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // A zone index (`fe80::1%eth0`) names an interface: always link-local, never public.
  if (bare.includes('%')) return `${address} is a scoped (link-local) address`;
  if (!ipaddr.isValid(bare)) return `${address} is not an IP address`;
  let parsed = ipaddr.parse(bare);
  // `::ffff:127.0.0.1` reaches 127.0.0.1: judge the IPv4 address it carries.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const range = parsed.range();
  // Only global unicast is public. Everything else (loopback, private, link-local with the cloud
  // metadata endpoints, CGNAT, multicast, unspecified, broadcast, unique-local, NAT64/6to4/Teredo
  // tunnels that can embed a private IPv4 address, documentation and reserved blocks) is refused.
  if (range === 'unicast') return undefined;
  return `${address} is a ${RANGE_NAMES[range] ?? `${range}`} address`;
}

const RANGE_NAMES: Readonly<Record<string, string>> = {
  loopback: 'loopback',
  private: 'private (RFC 1918)',
  linkLocal: 'link-local (cloud metadata lives here)',
  carrierGradeNat: 'carrier-grade NAT (RFC 6598)',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  reserved: 'reserved',
  uniqueLocal: 'unique-local (IPv6 private)',
  ipv4Mapped: 'IPv4-mapped',
  rfc6052: 'NAT64 (RFC 6052)',
  rfc6145: 'IPv4-translated (RFC 6145)',
  '6to4': '6to4 tunnel',
  teredo: 'Teredo tunnel',
  benchmarking: 'benchmarking',
  amt: 'AMT',
  as112: 'AS112',
  as112v6: 'AS112',
  deprecated: 'deprecated',
  orchid2: 'ORCHIDv2',
};
