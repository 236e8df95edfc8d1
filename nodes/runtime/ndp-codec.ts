import { fail, ok } from '../protocol/result.js';
import { formatIpv6, writeIpv6 } from '../protocol/ipv6text.js';
import type { Decoded } from '../protocol/types.js';

// Router Solicitation and Router Advertisement (RFC 4861 4.1, 4.2) with the
// options a PMIPv6 MAG uses: source link-layer address (4.6.1), prefix
// information (4.6.2) and MTU (4.6.4). Pure: bytes in, values out. The ICMPv6
// checksum is left 0: the kernel fills it in on raw ICMPv6 sockets.

export const ICMP6_RS = 133;
export const ICMP6_RA = 134;
const OPT_SLLA = 1;
const OPT_PREFIX = 3;
const OPT_MTU = 5;
const PIO_L = 0x80;
const PIO_A = 0x40;
const RA_M = 0x80;
const RA_O = 0x40;
/** 0xffffffff: infinite lifetime (RFC 4861 4.6.2) */
export const INFINITE = 0xffffffff;

export interface PrefixInfo {
  prefix: string; // CIDR, e.g. 2001:db8:a:1::/64
  onLink: boolean; // L
  autonomous: boolean; // A: the host may configure an address from it (SLAAC)
  validLifetime: number; // seconds
  preferredLifetime: number; // seconds
}

export interface RouterAdvertisement {
  curHopLimit: number; // 0 = unspecified
  managed: boolean; // M
  other: boolean; // O
  routerLifetime: number; // seconds, 0..65535 (0: not a default router)
  reachableTime: number; // ms, 0 = unspecified
  retransTimer: number; // ms, 0 = unspecified
  sourceLinkLayer?: string; // MAC, 'aa:bb:cc:dd:ee:ff'
  mtu?: number;
  prefixes: PrefixInfo[];
}

export interface RouterSolicitation {
  sourceLinkLayer?: string;
}

const macRe = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

function writeMac(mac: string, buf: Uint8Array, offset: number): void {
  if (!macRe.test(mac)) throw new RangeError(`not a MAC address: ${JSON.stringify(mac)}`);
  mac.split(':').forEach((h, i) => (buf[offset + i] = parseInt(h, 16)));
}

function formatMac(buf: Uint8Array, offset: number, len: number): string {
  return Array.from(buf.subarray(offset, offset + len), (b) => b.toString(16).padStart(2, '0')).join(':');
}

function u32(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${field}: not a 32-bit unsigned integer: ${v}`);
  return v;
}

/** The octets of a Router Advertisement (checksum 0). Throws on values that cannot be encoded (programmer error). */
export function encodeRa(ra: RouterAdvertisement): Uint8Array {
  const len = 16 + (ra.sourceLinkLayer ? 8 : 0) + (ra.mtu !== undefined ? 8 : 0) + 32 * ra.prefixes.length;
  const buf = new Uint8Array(len);
  const dv = new DataView(buf.buffer);
  buf[0] = ICMP6_RA;
  if (!Number.isInteger(ra.curHopLimit) || ra.curHopLimit < 0 || ra.curHopLimit > 255) throw new RangeError(`curHopLimit: ${ra.curHopLimit}`);
  buf[4] = ra.curHopLimit;
  buf[5] = (ra.managed ? RA_M : 0) | (ra.other ? RA_O : 0);
  if (!Number.isInteger(ra.routerLifetime) || ra.routerLifetime < 0 || ra.routerLifetime > 0xffff) throw new RangeError(`routerLifetime: ${ra.routerLifetime}`);
  dv.setUint16(6, ra.routerLifetime);
  dv.setUint32(8, u32(ra.reachableTime, 'reachableTime'));
  dv.setUint32(12, u32(ra.retransTimer, 'retransTimer'));
  let o = 16;
  if (ra.sourceLinkLayer) {
    buf[o] = OPT_SLLA;
    buf[o + 1] = 1;
    writeMac(ra.sourceLinkLayer, buf, o + 2);
    o += 8;
  }
  if (ra.mtu !== undefined) {
    buf[o] = OPT_MTU;
    buf[o + 1] = 1;
    dv.setUint32(o + 4, u32(ra.mtu, 'mtu'));
    o += 8;
  }
  for (const p of ra.prefixes) {
    const [addr, lenText] = p.prefix.split('/');
    const plen = Number(lenText);
    if (addr === undefined || !Number.isInteger(plen) || plen < 0 || plen > 128) throw new RangeError(`prefix: not CIDR: ${p.prefix}`);
    buf[o] = OPT_PREFIX;
    buf[o + 1] = 4;
    buf[o + 2] = plen;
    buf[o + 3] = (p.onLink ? PIO_L : 0) | (p.autonomous ? PIO_A : 0);
    dv.setUint32(o + 4, u32(p.validLifetime, 'validLifetime'));
    dv.setUint32(o + 8, u32(p.preferredLifetime, 'preferredLifetime'));
    writeIpv6(addr, buf, o + 16, 'prefix');
    o += 32;
  }
  return buf;
}

/** The octets of a Router Solicitation (checksum 0); the MN side, for tests. */
export function encodeRs(rs: RouterSolicitation): Uint8Array {
  const buf = new Uint8Array(8 + (rs.sourceLinkLayer ? 8 : 0));
  buf[0] = ICMP6_RS;
  if (rs.sourceLinkLayer) {
    buf[8] = OPT_SLLA;
    buf[9] = 1;
    writeMac(rs.sourceLinkLayer, buf, 10);
  }
  return buf;
}

interface RawOption {
  type: number;
  offset: number; // of the option's first octet
  len: number; // octets
}

/** Walk the TLV options from offset to the end (RFC 4861 4.6: length in units of 8 octets, never 0). */
function options(buf: Uint8Array, offset: number, record: string): { ok: true; value: RawOption[] } | ReturnType<typeof fail> {
  const out: RawOption[] = [];
  let o = offset;
  while (o < buf.length) {
    if (o + 2 > buf.length) return fail('truncated', `${record}.option`, o);
    const len = (buf[o + 1] ?? 0) * 8;
    if (len === 0) return fail('bad-length', `${record}.option.length`, o + 1, 'option length 0');
    if (o + len > buf.length) return fail('truncated', `${record}.option`, o, `option of ${len} octets`);
    out.push({ type: buf[o] ?? 0, offset: o, len });
    o += len;
  }
  return { ok: true, value: out };
}

/** Decode the ICMPv6 payload of a Router Solicitation (as a raw ICMPv6 socket hands it over). */
export function decodeRs(buf: Uint8Array): Decoded<RouterSolicitation> {
  if (buf.length < 8) return fail('truncated', 'RouterSolicitation', 0, `${buf.length} octets`);
  if (buf[0] !== ICMP6_RS) return fail('unknown-type', 'RouterSolicitation.type', 0, String(buf[0]));
  if (buf[1] !== 0) return fail('bad-value', 'RouterSolicitation.code', 1, String(buf[1]));
  const opts = options(buf, 8, 'RouterSolicitation');
  if (!opts.ok) return opts;
  const rs: RouterSolicitation = {};
  for (const opt of opts.value) {
    // unknown options are ignored (RFC 4861 6.1.1); the first SLLAO counts
    if (opt.type === OPT_SLLA && rs.sourceLinkLayer === undefined) {
      if (opt.len < 8) return fail('bad-length', 'RouterSolicitation.sourceLinkLayer', opt.offset);
      rs.sourceLinkLayer = formatMac(buf, opt.offset + 2, 6);
    }
  }
  return ok(rs, buf.length);
}

/** Decode a Router Advertisement (tests read what the MAG sent). */
export function decodeRa(buf: Uint8Array): Decoded<RouterAdvertisement> {
  if (buf.length < 16) return fail('truncated', 'RouterAdvertisement', 0, `${buf.length} octets`);
  if (buf[0] !== ICMP6_RA) return fail('unknown-type', 'RouterAdvertisement.type', 0, String(buf[0]));
  if (buf[1] !== 0) return fail('bad-value', 'RouterAdvertisement.code', 1, String(buf[1]));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const flags = buf[5] ?? 0;
  const ra: RouterAdvertisement = {
    curHopLimit: buf[4] ?? 0,
    managed: (flags & RA_M) !== 0,
    other: (flags & RA_O) !== 0,
    routerLifetime: dv.getUint16(6),
    reachableTime: dv.getUint32(8),
    retransTimer: dv.getUint32(12),
    prefixes: [],
  };
  const opts = options(buf, 16, 'RouterAdvertisement');
  if (!opts.ok) return opts;
  for (const opt of opts.value) {
    const o = opt.offset;
    if (opt.type === OPT_SLLA && ra.sourceLinkLayer === undefined) {
      ra.sourceLinkLayer = formatMac(buf, o + 2, 6);
    } else if (opt.type === OPT_MTU) {
      if (opt.len !== 8) return fail('bad-length', 'RouterAdvertisement.mtu', o + 1);
      ra.mtu = dv.getUint32(o + 4);
    } else if (opt.type === OPT_PREFIX) {
      if (opt.len !== 32) return fail('bad-length', 'RouterAdvertisement.prefix', o + 1);
      const plen = buf[o + 2] ?? 0;
      if (plen > 128) return fail('bad-value', 'RouterAdvertisement.prefix.prefixLength', o + 2, String(plen));
      const f = buf[o + 3] ?? 0;
      ra.prefixes.push({
        prefix: `${formatIpv6(buf, o + 16)}/${plen}`,
        onLink: (f & PIO_L) !== 0,
        autonomous: (f & PIO_A) !== 0,
        validLifetime: dv.getUint32(o + 4),
        preferredLifetime: dv.getUint32(o + 8),
      });
    }
  }
  return ok(ra, buf.length);
}
