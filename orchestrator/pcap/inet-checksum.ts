// The Internet checksum (RFC 1071) with the IPv6 pseudo-header (RFC 8200 8.1),
// used here for UDP. The MH checksum is the codec's (mhChecksum); this one
// exists because the packet builder must not depend on the codec.

function sum16(buf: Uint8Array, acc: number): number {
  let s = acc;
  for (let i = 0; i + 1 < buf.length; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  if (buf.length % 2 === 1) s += buf[buf.length - 1]! << 8;
  return s;
}

function fold(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + Math.floor(x / 0x10000);
  return x;
}

/** Checksum over pseudo-header(src, dst, length, nextHeader) + payload (checksum field zero or not). */
export function ipv6PseudoChecksum(src: Uint8Array, dst: Uint8Array, nextHeader: number, payload: Uint8Array): number {
  const len = payload.length;
  let s = sum16(src, 0);
  s = sum16(dst, s);
  s += Math.floor(len / 0x10000) + (len & 0xffff) + nextHeader;
  s = sum16(payload, s);
  return ~fold(s) & 0xffff;
}
