// RFC 6088 traffic selectors inside the FID option's Traffic Selector
// sub-option. We parse the IPv6 binary format (TS Format 2) for the components
// pmiplab uses (address, port and next-header ranges); any other format, or an
// IPv6 selector using SPI / flow label / traffic class (whose field widths we
// do not model), is kept opaque as 'trafficSelectorRaw' and re-encoded byte
// for byte.
//
// Layout after Sub-opt Type/Len: TS Format u8, Reserved u8, then (IPv6) a
// 16-bit flag word A..P, a 16-bit reserved word, then each present field in
// flag order: addresses 16 octets, ports 2, next header 1.

import { checkInt, get16, put16, put8 } from '../bytes.js';
import { hexLength, toHex, writeHex } from '../hex.js';
import { formatIpv6, writeIpv6 } from '../ipv6text.js';
import { TS6_FLAG, TS_FORMAT } from '../numbers.js';
import { fail, ok } from '../result.js';
import type { Decoded, FidSubOption } from '../types.js';

type Ts = Extract<FidSubOption, { kind: 'trafficSelector' }>;
type TsRaw = Extract<FidSubOption, { kind: 'trafficSelectorRaw' }>;

// Components in wire order: key in the value, flag bit, octets.
const FIELDS = [
  ['srcStart', TS6_FLAG.srcStart, 16],
  ['srcEnd', TS6_FLAG.srcEnd, 16],
  ['dstStart', TS6_FLAG.dstStart, 16],
  ['dstEnd', TS6_FLAG.dstEnd, 16],
  ['srcPortStart', TS6_FLAG.srcPortStart, 2],
  ['srcPortEnd', TS6_FLAG.srcPortEnd, 2],
  ['dstPortStart', TS6_FLAG.dstPortStart, 2],
  ['dstPortEnd', TS6_FLAG.dstPortEnd, 2],
  ['nextHeaderStart', TS6_FLAG.nextHeaderStart, 1],
  ['nextHeaderEnd', TS6_FLAG.nextHeaderEnd, 1],
] as const;
type Key = (typeof FIELDS)[number][0];

const SUPPORTED = FIELDS.reduce((m, f) => m | f[1], 0);
// (end flag, start flag) pairs: an end bound needs its start bound.
const PAIRS = [
  ['srcEnd', 'srcStart'],
  ['dstEnd', 'dstStart'],
  ['srcPortEnd', 'srcPortStart'],
  ['dstPortEnd', 'dstPortStart'],
  ['nextHeaderEnd', 'nextHeaderStart'],
] as const;

/** Octets of the selector after TS Format and Reserved. */
export function selectorLength(v: Ts | TsRaw): number {
  if (v.kind === 'trafficSelectorRaw') return hexLength(v.data, 'TrafficSelector.data');
  let n = 4;
  for (const [k, , w] of FIELDS) if (v[k] !== undefined) n += w;
  return n;
}

/** Writes TS Format, Reserved and the selector at offset; returns octets written. */
export function writeSelector(v: Ts | TsRaw, buf: Uint8Array, offset: number): number {
  if (v.kind === 'trafficSelectorRaw') {
    put8(buf, offset, v.format, 'TrafficSelector.format');
    if (v.format === 0) throw new RangeError('TrafficSelector.format: 0 is reserved');
    if (v.format === TS_FORMAT.ipv6) {
      const f = v.data.length >= 4 ? parseInt(v.data.slice(0, 4), 16) : 0;
      if ((f & ~SUPPORTED) === 0) {
        throw new RangeError('TrafficSelector: an IPv6 selector without SPI/flow label/traffic class is kind trafficSelector, not trafficSelectorRaw');
      }
    }
    put8(buf, offset + 1, v.reserved ?? 0, 'TrafficSelector.reserved');
    return 2 + writeHex(v.data, buf, offset + 2, 'TrafficSelector.data');
  }
  buf[offset] = TS_FORMAT.ipv6;
  put8(buf, offset + 1, v.reserved ?? 0, 'TrafficSelector.reserved');
  for (const [end, start] of PAIRS) {
    if (v[end] !== undefined && v[start] === undefined) throw new RangeError(`TrafficSelector.${end}: set without ${start}`);
  }
  let flags = 0;
  let o = offset + 6;
  const at: Partial<Record<Key, number>> = {};
  for (const [k, f, w] of FIELDS) {
    const x = v[k];
    if (x === undefined) continue;
    flags |= f;
    at[k] = o;
    if (w === 16) writeIpv6(x as string, buf, o, `TrafficSelector.${k}`);
    else if (w === 2) put16(buf, o, x as number, `TrafficSelector.${k}`);
    else put8(buf, o, x as number, `TrafficSelector.${k}`);
    o += w;
  }
  // decode refuses an empty range, so encode must not write one
  const inverted = invertedRange(buf, at);
  if (inverted !== undefined) throw new RangeError(`TrafficSelector.${inverted[0]}: range end below its start ${inverted[1]}`);
  buf[offset + 2] = flags >>> 8;
  buf[offset + 3] = flags & 0xff;
  put16(buf, offset + 4, checkInt(v.flagsReserved ?? 0, 0xffff, 'TrafficSelector.flagsReserved'), 'TrafficSelector.flagsReserved');
  return o - offset;
}

/** Reads TS Format .. end of the sub-option data [offset, end). */
export function readSelector(buf: Uint8Array, offset: number, end: number): Decoded<Ts | TsRaw> {
  if (end - offset < 2) return fail('bad-length', 'TrafficSelector.length', offset, 'no room for TS Format and Reserved');
  const format = buf[offset]!;
  const reserved = buf[offset + 1]!;
  if (format === 0) return fail('bad-value', 'TrafficSelector.format', offset, 'TS Format 0 is reserved');
  const flags = end - offset >= 4 ? get16(buf, offset + 2) : 0;
  if (format !== TS_FORMAT.ipv6 || (flags & ~SUPPORTED) !== 0) {
    const raw: TsRaw = { kind: 'trafficSelectorRaw', format, data: toHex(buf, offset + 2, end) };
    if (reserved !== 0) raw.reserved = reserved;
    return ok(raw, end - offset);
  }
  if (end - offset < 6) return fail('bad-length', 'TrafficSelector.length', offset, 'IPv6 selector shorter than its flags');
  let need = 6;
  for (const [, f, w] of FIELDS) if ((flags & f) !== 0) need += w;
  if (need !== end - offset) {
    return fail('bad-length', 'TrafficSelector.length', offset, `flags 0x${flags.toString(16)} need ${need} octets, sub-option has ${end - offset}`);
  }
  const v: Ts = { kind: 'trafficSelector' };
  if (reserved !== 0) v.reserved = reserved;
  const fr = get16(buf, offset + 4);
  if (fr !== 0) v.flagsReserved = fr;
  let o = offset + 6;
  const at: Partial<Record<Key, number>> = {};
  for (const [k, f, w] of FIELDS) {
    if ((flags & f) === 0) continue;
    at[k] = o;
    if (w === 16) (v as Record<Key, unknown>)[k] = formatIpv6(buf, o);
    else if (w === 2) (v as Record<Key, unknown>)[k] = get16(buf, o);
    else (v as Record<Key, unknown>)[k] = buf[o]!;
    o += w;
  }
  for (const [endKey, startKey] of PAIRS) {
    if (v[endKey] !== undefined && v[startKey] === undefined) {
      return fail('bad-value', `TrafficSelector.${endKey}`, offset + 2, `end bound without ${startKey}`);
    }
  }
  const inverted = invertedRange(buf, at);
  if (inverted !== undefined) {
    const [endKey, startKey] = inverted;
    return fail('bad-value', `TrafficSelector.${endKey}`, at[endKey]!, `range end below its start ${startKey}`);
  }
  return ok(v, end - offset);
}

/**
 * The first end bound below its start bound, given where each field sits in
 * buf (ranges must not be empty; addresses compare as octets). A start and its
 * end are adjacent in FIELDS, so the end's offset minus the start's is the width.
 */
function invertedRange(buf: Uint8Array, at: Partial<Record<Key, number>>): (typeof PAIRS)[number] | undefined {
  for (const pair of PAIRS) {
    const e = at[pair[0]];
    const s = at[pair[1]];
    if (e !== undefined && s !== undefined && compare(buf, s, e, e - s) > 0) return pair;
  }
  return undefined;
}

function compare(buf: Uint8Array, a: number, b: number, w: number): number {
  for (let i = 0; i < w; i++) {
    const d = buf[a + i]! - buf[b + i]!;
    if (d !== 0) return d;
  }
  return 0;
}
