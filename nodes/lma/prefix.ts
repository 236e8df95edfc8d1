import { formatIpv6, parseIpv6Into } from '../protocol/index.js';

// IPv6 prefixes as the LMA handles them: CIDR text, normalised (host bits
// cleared, RFC 5952), so equal prefixes are equal strings and can key maps.

const scratch = new Uint8Array(16);

/** Normalised `addr/len`, or null when the text is not an IPv6 prefix. */
export function normalizePrefix(cidr: string): string | null {
  const slash = cidr.indexOf('/');
  if (slash < 0) return null;
  const lenText = cidr.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return null;
  const len = Number(lenText);
  if (len > 128) return null;
  return prefixOf(cidr.slice(0, slash), len);
}

/** `addr/len` from an address and a length (host bits cleared); null when addr is not IPv6. */
export function prefixOf(address: string, len: number): string | null {
  if (!Number.isInteger(len) || len < 0 || len > 128) return null;
  if (!parseIpv6Into(address, scratch, 0)) return null;
  clearHostBits(scratch, len);
  return `${formatIpv6(scratch, 0)}/${len}`;
}

function clearHostBits(buf: Uint8Array, len: number): void {
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, len - i * 8));
    buf[i] = buf[i]! & ((0xff << (8 - keep)) & 0xff);
  }
}

/** RFC 5213 ALL_ZERO: a Home Network Prefix option asking the LMA to assign. */
export function isAllZero(address: string): boolean {
  return parseIpv6Into(address, scratch, 0) && scratch.every((b) => b === 0);
}

/** Split a normalised prefix into the HNP option's fields. */
export function splitPrefix(prefix: string): { prefix: string; prefixLength: number } {
  const slash = prefix.lastIndexOf('/');
  return { prefix: prefix.slice(0, slash), prefixLength: Number(prefix.slice(slash + 1)) };
}

/**
 * The /64 subnets of a pool: how many there are, and the k-th one. Pools
 * longer than /64 hold none; very short pools are capped at 2^32 subnets
 * (more than any emulation allocates).
 */
export class Subnets64 {
  readonly count: number;
  private readonly base = new Uint8Array(16);

  constructor(readonly pool: string) {
    const n = normalizePrefix(pool);
    const len = n ? Number(n.slice(n.lastIndexOf('/') + 1)) : 129;
    if (!n || len > 64) {
      this.count = 0;
      return;
    }
    parseIpv6Into(n.slice(0, n.lastIndexOf('/')), this.base, 0);
    this.count = 2 ** Math.min(32, 64 - len);
  }

  /** Subnet number i (0 <= i < count) as `addr/64`. */
  at(i: number): string {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`subnet ${i} is outside ${this.pool}`);
    const b = scratch;
    b.set(this.base);
    // add i to the upper 64 bits (the pool's host part there is zero)
    let carry = i;
    for (let k = 7; k >= 0 && carry > 0; k--) {
      const sum = b[k]! + (carry % 256);
      b[k] = sum & 0xff;
      carry = Math.floor(carry / 256) + (sum > 0xff ? 1 : 0);
    }
    b.fill(0, 8);
    return `${formatIpv6(b, 0)}/64`;
  }
}
