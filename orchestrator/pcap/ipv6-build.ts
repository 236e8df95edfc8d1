import { ipv6Bytes } from './address.js';
import { ipv6PseudoChecksum } from './inet-checksum.js';
import { IPV6_HEADER_LEN, MH_UDP_PORT, NH, UDP_HEADER_LEN } from './ipv6-format.js';

// Builds IPv6 packets for captures and tests. Inputs come from our own code,
// so a bad address or an oversize payload is a programmer error and throws.

/** An extension header: its type, and its bytes after the two-octet (next header, length) prefix. */
export interface ExtensionHeader {
  type: number;
  body: Uint8Array;
}

export interface Ipv6Spec {
  src: string;
  dst: string;
  nextHeader: number; // of the upper layer, after the extension headers
  payload: Uint8Array;
  hopLimit?: number;
  extensions?: readonly ExtensionHeader[];
}

function addr(text: string): Uint8Array {
  const b = ipv6Bytes(text);
  if (!b) throw new TypeError(`not an IPv6 address: ${text}`);
  return b;
}

/** Hop-by-hop or destination options header padded to 8 octets with one PadN option. */
export function paddedOptionsHeader(type: typeof NH.hopByHop | typeof NH.destOptions, octets = 8): ExtensionHeader {
  if (octets < 8 || octets % 8 !== 0) throw new RangeError('options header length must be a multiple of 8');
  const body = new Uint8Array(octets - 2);
  body[0] = 1; // PadN
  body[1] = octets - 4;
  return { type, body };
}

/** Fragment header; `offset` in 8-octet units. */
export function fragmentHeader(offset: number, more: boolean, id: number): ExtensionHeader {
  const body = new Uint8Array(6);
  const dv = new DataView(body.buffer);
  dv.setUint16(0, (offset << 3) | (more ? 1 : 0), false);
  dv.setUint32(2, id >>> 0, false);
  return { type: NH.fragment, body };
}

/** Routing header with an unknown routing type and segments left 0, which a node must skip. */
export function routingHeader(routingType = 253): ExtensionHeader {
  const body = new Uint8Array(6);
  body[0] = routingType;
  return { type: NH.routing, body };
}

export function buildIpv6(spec: Ipv6Spec): Uint8Array {
  const exts = spec.extensions ?? [];
  for (const e of exts) {
    const whole = 2 + e.body.length;
    if (e.type === NH.fragment ? whole !== 8 : whole % 8 !== 0) throw new RangeError(`extension ${e.type}: bad length ${whole}`);
  }
  const extLen = exts.reduce((n, e) => n + 2 + e.body.length, 0);
  const payloadLen = extLen + spec.payload.length;
  if (payloadLen > 0xffff) throw new RangeError('payload too long for IPv6 without a jumbogram');
  const out = new Uint8Array(IPV6_HEADER_LEN + payloadLen);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x60000000, false);
  dv.setUint16(4, payloadLen, false);
  out[6] = exts[0]?.type ?? spec.nextHeader;
  out[7] = spec.hopLimit ?? 64;
  out.set(addr(spec.src), 8);
  out.set(addr(spec.dst), 24);
  let off = IPV6_HEADER_LEN;
  exts.forEach((e, i) => {
    out[off] = exts[i + 1]?.type ?? spec.nextHeader;
    out[off + 1] = e.type === NH.fragment ? 0 : (2 + e.body.length) / 8 - 1;
    out.set(e.body, off + 2);
    off += 2 + e.body.length;
  });
  out.set(spec.payload, off);
  return out;
}

/** UDP datagram (header + payload) with its checksum over the IPv6 pseudo-header. */
export function buildUdp(src: string, dst: string, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const len = UDP_HEADER_LEN + payload.length;
  if (len > 0xffff) throw new RangeError('UDP datagram too long');
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, srcPort, false);
  dv.setUint16(2, dstPort, false);
  dv.setUint16(4, len, false);
  out.set(payload, UDP_HEADER_LEN);
  const sum = ipv6PseudoChecksum(addr(src), addr(dst), NH.udp, out);
  dv.setUint16(6, sum === 0 ? 0xffff : sum, false); // RFC 8200: a computed 0 is sent as 0xffff
  return out;
}

export interface MhPacketSpec {
  src: string;
  dst: string;
  mh: Uint8Array; // the finished MH, checksum already filled when the caller wants one
  transport: 'udp' | 'raw';
  extensions?: readonly ExtensionHeader[];
  srcPort?: number; // UDP only; default 5436
  dstPort?: number; // UDP only; default 5436
}

/** IPv6 packet carrying an MH either as next header 135 or in UDP port 5436. */
export function buildMhPacket(s: MhPacketSpec): Uint8Array {
  const payload = s.transport === 'udp' ? buildUdp(s.src, s.dst, s.srcPort ?? MH_UDP_PORT, s.dstPort ?? MH_UDP_PORT, s.mh) : s.mh;
  return buildIpv6({
    src: s.src,
    dst: s.dst,
    nextHeader: s.transport === 'udp' ? NH.udp : NH.mobility,
    payload,
    ...(s.extensions ? { extensions: s.extensions } : {}),
  });
}
