import { ipv6Text } from './address.js';
import { IPV6_HEADER_LEN, MH_UDP_PORT, NH, UDP_HEADER_LEN } from './ipv6-format.js';
import { fail, ok, type Parsed } from './result.js';

// Parses an IPv6 header and walks the extension headers to the upper layer.
// Every step moves forward by at least 8 octets inside a bounded buffer, so
// a hostile packet cannot make the walk loop. Offsets in errors are from the
// start of the IPv6 header.

export interface Ipv6Packet {
  src: string;
  dst: string;
  nextHeader: number; // of the upper layer
  offset: number; // where the upper layer starts
  end: number; // end of the IPv6 payload (clipped to the captured bytes)
  snapped: boolean; // the capture holds fewer bytes than the payload length says
  fragment: { offset: number; more: boolean } | null;
  extensions: number[]; // the extension header types walked, in order
}

// At most this many extension headers: real packets carry a handful; more is an attack or garbage.
const MAX_EXTENSIONS = 16;

export function parseIpv6(pkt: Uint8Array): Parsed<Ipv6Packet> {
  if (pkt.length < IPV6_HEADER_LEN) return fail('truncated', 'ipv6.header', 0, `${pkt.length} of ${IPV6_HEADER_LEN} bytes`);
  const dv = new DataView(pkt.buffer, pkt.byteOffset, pkt.byteLength);
  if (pkt[0]! >> 4 !== 6) return fail('bad-value', 'ipv6.version', 0, `${pkt[0]! >> 4}`);
  const payloadLen = dv.getUint16(4, false);
  const declaredEnd = IPV6_HEADER_LEN + payloadLen;
  const end = Math.min(declaredEnd, pkt.length);
  let nh = pkt[6]!;
  let off = IPV6_HEADER_LEN;
  let fragment: Ipv6Packet['fragment'] = null;
  const extensions: number[] = [];
  while (nh === NH.hopByHop || nh === NH.routing || nh === NH.destOptions || nh === NH.fragment || nh === NH.ah) {
    if (extensions.length >= MAX_EXTENSIONS) return fail('bad-value', 'ipv6.extensions', off, `more than ${MAX_EXTENSIONS}`);
    const name = `ipv6.ext[${extensions.length}]`;
    if (end - off < 8) return fail('truncated', name, off, `extension header ${nh}`);
    if (nh === NH.hopByHop && extensions.length > 0) return fail('bad-value', name, off, 'hop-by-hop header not first');
    const len = nh === NH.fragment ? 8 : nh === NH.ah ? (pkt[off + 1]! + 2) * 4 : (pkt[off + 1]! + 1) * 8;
    if (off + len > end) return fail('truncated', `${name}.length`, off + 1, `header of ${len} bytes, ${end - off} left`);
    extensions.push(nh);
    if (nh === NH.fragment) {
      const fo = dv.getUint16(off + 2, false);
      fragment = { offset: fo >> 3, more: (fo & 1) === 1 };
      const next = pkt[off]!;
      off += len;
      // A later fragment has no upper-layer header; the walk ends here.
      if (fragment.offset !== 0) return ok(result(pkt, next, off, end, declaredEnd, fragment, extensions));
      nh = next;
      continue;
    }
    nh = pkt[off]!;
    off += len;
  }
  return ok(result(pkt, nh, off, end, declaredEnd, fragment, extensions));
}

function result(
  pkt: Uint8Array, nextHeader: number, offset: number, end: number, declaredEnd: number,
  fragment: Ipv6Packet['fragment'], extensions: number[],
): Ipv6Packet {
  return { src: ipv6Text(pkt, 8), dst: ipv6Text(pkt, 24), nextHeader, offset, end, snapped: declaredEnd > pkt.length, fragment, extensions };
}

export interface FoundMh {
  transport: 'udp' | 'raw';
  mh: Uint8Array;
  offset: number; // of the MH inside the IPv6 packet
}

/**
 * The MH a parsed packet carries: next header 135, or UDP to or from port 5436.
 * ok(null) when the packet carries something else (or is a non-first fragment).
 */
export function findMobilityHeader(pkt: Uint8Array, ip: Ipv6Packet): Parsed<FoundMh | null> {
  if (ip.fragment && ip.fragment.offset !== 0) return ok(null);
  if (ip.nextHeader === NH.mobility) return ok({ transport: 'raw', mh: pkt.subarray(ip.offset, ip.end), offset: ip.offset });
  if (ip.nextHeader !== NH.udp) return ok(null);
  if (ip.end - ip.offset < UDP_HEADER_LEN) return fail('truncated', 'udp.header', ip.offset);
  const dv = new DataView(pkt.buffer, pkt.byteOffset, pkt.byteLength);
  const sport = dv.getUint16(ip.offset, false);
  const dport = dv.getUint16(ip.offset + 2, false);
  if (sport !== MH_UDP_PORT && dport !== MH_UDP_PORT) return ok(null);
  const udpLen = dv.getUint16(ip.offset + 4, false);
  if (udpLen < UDP_HEADER_LEN) return fail('bad-length', 'udp.length', ip.offset + 4, `${udpLen}`);
  // A UDP length beyond the payload is fine in a snapped capture or a first fragment; else it is corrupt.
  if (ip.offset + udpLen > ip.end && !ip.snapped && !ip.fragment?.more) {
    return fail('bad-length', 'udp.length', ip.offset + 4, `${udpLen} exceeds the IPv6 payload`);
  }
  const start = ip.offset + UDP_HEADER_LEN;
  return ok({ transport: 'udp', mh: pkt.subarray(start, Math.min(ip.offset + udpLen, ip.end)), offset: start });
}
