// RFC 6275 6.1.1 Mobility Header checksum: 16-bit ones' complement of the
// ones' complement sum over the IPv6 pseudo-header (RFC 8200 8.1: source,
// destination, 32-bit upper-layer length, three zero octets, next header 135)
// and the whole MH, with the checksum field (octets 4..5) taken as zero.
// A result of 0 is sent as 0, as Linux does for raw IPV6_CHECKSUM sockets of
// protocols other than UDP (rawv6_push_pending_frames), so our value matches
// what the kernel writes for protocol 135.

import { IPPROTO_MH } from './numbers.js';

function sumWords(buf: Uint8Array, start: number, end: number, skip: number): number {
  let sum = 0;
  let i = start;
  for (; i + 1 < end; i += 2) {
    if (i !== skip) sum += (buf[i]! << 8) | buf[i + 1]!;
  }
  if (i < end) sum += buf[i]! << 8; // odd length: pad with a zero octet
  return sum;
}

export function mhChecksum(src: Uint8Array, dst: Uint8Array, mh: Uint8Array): number {
  if (src.length !== 16 || dst.length !== 16) throw new RangeError('mhChecksum: addresses must be 16 octets');
  let sum = sumWords(src, 0, 16, -1) + sumWords(dst, 0, 16, -1);
  const len = mh.length;
  sum += (len >>> 16) + (len & 0xffff) + IPPROTO_MH;
  sum += sumWords(mh, 0, len, 4);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Copy of mh with its checksum field filled in for the given addresses. */
export function withChecksum(mh: Uint8Array, src: Uint8Array, dst: Uint8Array): Uint8Array {
  if (mh.length < 6) throw new RangeError('withChecksum: MH shorter than its fixed header');
  const out = new Uint8Array(mh);
  const c = mhChecksum(src, dst, mh);
  out[4] = c >>> 8;
  out[5] = c & 0xff;
  return out;
}
