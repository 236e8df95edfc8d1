import ipaddr from 'ipaddr.js';

// Address arithmetic for the plan, on 128-bit bigints so a /64 subnet number
// or a host number is a plain addition. Pure functions, no I/O.

export interface Prefix {
  /** network address as a 128-bit integer */
  base: bigint;
  len: number;
}

/** Documentation (RFC 3849) and ULA (RFC 4193) space: the emulated domain must never look routable. */
export const ALLOWED_SPACE = ['2001:db8::/32', 'fc00::/7'] as const;

/** MAG access end of every access link (RFC 5213 6.8: the same link-local on every access link). */
export const ACCESS_LINK_LOCAL = 'fe80::1/64';
/** ... and the same MAC on every MAG access interface, so an MN that moves keeps a valid router entry (RFC 5213 6.9.3). */
export const ACCESS_MAC = '02:00:00:00:00:01';
/** First interface index; the kernel gives small ones to lo and auto-named devices, so these never clash. */
export const IFINDEX_BASE = 1000;

export function toBig(addr: ipaddr.IPv6): bigint {
  return addr.toByteArray().reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

export function fromBig(n: bigint): ipaddr.IPv6 {
  const bytes: number[] = [];
  for (let i = 15; i >= 0; i--) bytes.push(Number((n >> BigInt(i * 8)) & 0xffn));
  return new ipaddr.IPv6(bytes);
}

const mask = (len: number) => ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - len)) - 1n);

/** Parse an IPv6 prefix; a string saying what is wrong when it is not one. */
export function parsePrefix(text: string): Prefix | string {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(text);
  } catch {
    return `"${text}" is not an IPv6 prefix such as 2001:db8:b::/48`;
  }
  const [addr, len] = parsed;
  if (addr.kind() !== 'ipv6') return `"${text}" is an IPv4 prefix; pools are IPv6`;
  const value = toBig(addr as ipaddr.IPv6);
  const base = value & mask(len);
  if (base !== value) return `"${text}" has host bits set; did you mean ${formatPrefix({ base, len })}?`;
  return { base, len };
}

export const formatPrefix = (p: Prefix) => `${fromBig(p.base).toString()}/${p.len}`;

export function contains(outer: Prefix, inner: Prefix): boolean {
  return outer.len <= inner.len && (inner.base & mask(outer.len)) === outer.base;
}

export const overlaps = (a: Prefix, b: Prefix) => contains(a, b) || contains(b, a);

export const isAllowedSpace = (p: Prefix) =>
  ALLOWED_SPACE.some((s) => contains(parsePrefix(s) as Prefix, p));

/** How many /64 subnets a pool holds (capped: only compared with small counts). */
export function subnetCount(pool: Prefix): number {
  return pool.len > 64 ? 0 : 2 ** Math.min(64 - pool.len, 40);
}

/** The n-th /64 of a pool (n from 0). */
export function subnet64(pool: Prefix, n: number): Prefix {
  if (n < 0 || n >= subnetCount(pool)) throw new RangeError(`subnet ${n} is outside ${formatPrefix(pool)}`);
  return { base: pool.base + (BigInt(n) << 64n), len: 64 };
}

/** Host number `host` of a subnet, as "addr/len". */
export const hostAddress = (subnet: Prefix, host: number) =>
  `${fromBig(subnet.base + BigInt(host)).toString()}/${subnet.len}`;

/** A locally administered unicast MAC derived from an interface index: 02:70:6c ("pl") then 24 bits. */
export function macForIfindex(ifindex: number): string {
  const hex = ifindex.toString(16).padStart(6, '0').slice(-6);
  return `02:70:6c:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}
