// Numbers of the IPv6 and UDP wire formats used by the builder and parser.
export const IPV6_HEADER_LEN = 40;
export const UDP_HEADER_LEN = 8;
export const NH = {
  hopByHop: 0,
  udp: 17,
  routing: 43,
  fragment: 44,
  ah: 51,
  noNext: 59,
  destOptions: 60,
  mobility: 135,
} as const;
export const MH_UDP_PORT = 5436; // RFC 5844: PMIPv6 signaling over UDP
