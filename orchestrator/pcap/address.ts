import ipaddr from 'ipaddr.js';

// IPv6 addresses cross the module border as strings (RFC 5952 form) and
// travel on the wire as 16 bytes; these two functions are the only converters.

/** 16 bytes of an IPv6 address; null if the text is not an IPv6 address. */
export function ipv6Bytes(text: string): Uint8Array | null {
  if (!ipaddr.IPv6.isValid(text)) return null;
  return Uint8Array.from(ipaddr.IPv6.parse(text).toByteArray());
}

/** RFC 5952 text of the 16 bytes at `offset` (caller checked the bounds). */
export function ipv6Text(buf: Uint8Array, offset = 0): string {
  return ipaddr.fromByteArray(Array.from(buf.subarray(offset, offset + 16))).toString();
}
