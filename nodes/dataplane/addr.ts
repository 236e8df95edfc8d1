import ipaddr from 'ipaddr.js';
import { ErrorCodes, PmipError } from '../contract/errors.js';

// Addresses and prefixes go into ip command lines: only well-formed IPv6
// text passes, normalised to RFC 5952 so equal prefixes give equal lines.

export function ipv6Address(text: string, what: string): string {
  if (!ipaddr.IPv6.isValid(text)) {
    throw new PmipError(ErrorCodes.badInput, `data plane: ${what} '${text}' is not an IPv6 address`);
  }
  return ipaddr.IPv6.parse(text).toString();
}

export function ipv6Prefix(text: string, what: string): string {
  let parsed: [ipaddr.IPv6 | ipaddr.IPv4, number];
  try {
    parsed = ipaddr.parseCIDR(text);
  } catch {
    throw new PmipError(ErrorCodes.badInput, `data plane: ${what} '${text}' is not an IPv6 prefix (CIDR)`);
  }
  const [addr, len] = parsed;
  if (addr.kind() !== 'ipv6') throw new PmipError(ErrorCodes.badInput, `data plane: ${what} '${text}' is not IPv6`);
  const net = ipaddr.IPv6.networkAddressFromCIDR(text);
  return `${net.toString()}/${len}`;
}

/** Interface names as the kernel allows them (no spaces, at most 15 octets). */
export function ifName(text: string, what: string): string {
  if (!/^[A-Za-z0-9_.@:-]{1,15}$/.test(text)) throw new PmipError(ErrorCodes.badInput, `data plane: ${what} '${text}' is not an interface name`);
  return text;
}
