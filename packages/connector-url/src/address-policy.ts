import ipaddr from 'ipaddr.js';

/** Why an address may not be fetched, or `undefined` when it is a public unicast address. */
export function unsafeAddressReason(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // A zone index (`fe80::1%eth0`) names an interface: always link-local, never public.
  if (bare.includes('%')) return `${address} is a scoped (link-local) address`;
  if (!ipaddr.isValid(bare)) return `${address} is not an IP address`;
  // ipaddr.js reads `::127.0.0.1` as IPv4-mapped; the URL parser (what the socket will use) reads it
  // as IPv4-compatible `::7f00:1`. Judge the form the URL parser produces.
  let parsed = ipaddr.parse(bare.includes(':') ? canonicalIpv6(bare) : bare);
  // `::ffff:127.0.0.1` reaches 127.0.0.1: judge the IPv4 address it carries.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (parsed.kind() === 'ipv6') {
    const reason = ipv6OutsideGlobalUnicast(parsed as ipaddr.IPv6, address);
    if (reason) return reason;
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
  deprecatedSiteLocal: 'site-local (deprecated)',
  discard: 'discard-only',
  segmentRouting: 'segment routing',
  orchid2: 'ORCHIDv2',
};

function canonicalIpv6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address;
  }
}

/** The IPv6 global unicast block (RFC 4291): the only IPv6 space that may reach the internet. */
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];

/** Special-purpose blocks inside 2000::/3 that ipaddr.js reports as plain unicast (IANA registry). */
const SPECIAL_INSIDE_GLOBAL: ReadonlyArray<{ cidr: [ipaddr.IPv6, number]; name: string }> = [
  {
    cidr: ipaddr.parseCIDR('2001::/23') as [ipaddr.IPv6, number],
    name: 'IETF protocol assignment (2001::/23)',
  },
  { cidr: ipaddr.parseCIDR('2001:db8::/32') as [ipaddr.IPv6, number], name: 'documentation (2001:db8::/32)' },
  { cidr: ipaddr.parseCIDR('2002::/16') as [ipaddr.IPv6, number], name: '6to4 tunnel (2002::/16)' },
  { cidr: ipaddr.parseCIDR('3fff::/20') as [ipaddr.IPv6, number], name: 'documentation (3fff::/20)' },
  { cidr: ipaddr.parseCIDR('2620:4f:8000::/48') as [ipaddr.IPv6, number], name: 'AS112 (2620:4f:8000::/48)' },
];

/**
 * IPv6 outside 2000::/3 is never public: `::7f00:1` (the IPv4-compatible form a URL like
 * `http://[::127.0.0.1]/` becomes), `::ffff:0:a00:1` (IPv4-translated), 64:ff9b::/96 (NAT64, which
 * reaches whatever IPv4 address it embeds), unique-local, link-local, multicast and unassigned
 * space alike. Inside 2000::/3 the special-purpose blocks are refused too.
 */
function ipv6OutsideGlobalUnicast(address: ipaddr.IPv6, label: string): string | undefined {
  const parts = address.parts;
  const embedsIpv4 = parts.slice(0, 6).every((part) => part === 0);
  if (embedsIpv4 && !(parts[6] === 0 && (parts[7] ?? 0) <= 1)) {
    const ipv4 = `${(parts[6] ?? 0) >> 8}.${(parts[6] ?? 0) & 0xff}.${(parts[7] ?? 0) >> 8}.${(parts[7] ?? 0) & 0xff}`;
    return `${label} is an IPv4-compatible IPv6 address (it embeds ${ipv4}), outside the public 2000::/3 range`;
  }
  if (address.match(ipaddr.parseCIDR('64:ff9b::/96') as [ipaddr.IPv6, number])) {
    return `${label} is a NAT64 (64:ff9b::/96) address, which reaches the IPv4 address it embeds`;
  }
  if (!address.match(GLOBAL_UNICAST)) {
    const range = address.range();
    const name = range === 'unicast' ? 'unassigned or reserved' : (RANGE_NAMES[range] ?? range);
    return `${label} is a ${name} IPv6 address, outside the public 2000::/3 range`;
  }
  const special = SPECIAL_INSIDE_GLOBAL.find((block) => address.match(block.cidr));
  return special ? `${label} is a special-purpose ${special.name} IPv6 address` : undefined;
}
