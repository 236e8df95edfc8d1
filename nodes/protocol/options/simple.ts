// Options with one fixed data length and plain fields: Binding Refresh Advice
// (RFC 6275 6.2.4), Handoff Indicator and Access Technology Type (RFC 5213
// 8.5/8.6), Timestamp (RFC 5213 8.8), Seed 002 Multihoming.

import { get16, get32, put16, put8, checkInt } from '../bytes.js';
import { OPT } from '../numbers.js';
import type { OptionOf } from '../types.js';
import { fixedOption } from './tlv.js';

export const bindingRefreshAdvice = fixedOption<OptionOf<'bindingRefreshAdvice'>>({
  name: 'BindingRefreshAdvice',
  kind: 'bindingRefreshAdvice',
  type: () => OPT.bindingRefreshAdvice,
  dataLength: 2,
  align: { x: 2, y: 0 },
  write: (v, buf, o) => put16(buf, o, v.interval, 'BindingRefreshAdvice.interval'),
  read: (buf, o) => ({ kind: 'bindingRefreshAdvice', interval: get16(buf, o) }),
});

// Handoff Indicator and Access Technology Type share one layout: Reserved u8 | value u8.
export const handoffIndicator = fixedOption<OptionOf<'handoffIndicator'>>({
  name: 'HandoffIndicator',
  kind: 'handoffIndicator',
  type: () => OPT.handoffIndicator,
  dataLength: 2,
  write: (v, buf, o) => {
    put8(buf, o, v.reserved ?? 0, 'HandoffIndicator.reserved');
    put8(buf, o + 1, v.value, 'HandoffIndicator.value');
  },
  read: (buf, o) => {
    const v: OptionOf<'handoffIndicator'> = { kind: 'handoffIndicator', value: buf[o + 1]! };
    if (buf[o] !== 0) v.reserved = buf[o]!;
    return v;
  },
});

export const accessTechnologyType = fixedOption<OptionOf<'accessTechnologyType'>>({
  name: 'AccessTechnologyType',
  kind: 'accessTechnologyType',
  type: () => OPT.accessTechnologyType,
  dataLength: 2,
  write: (v, buf, o) => {
    put8(buf, o, v.reserved ?? 0, 'AccessTechnologyType.reserved');
    put8(buf, o + 1, v.value, 'AccessTechnologyType.value');
  },
  read: (buf, o) => {
    const v: OptionOf<'accessTechnologyType'> = { kind: 'accessTechnologyType', value: buf[o + 1]! };
    if (buf[o] !== 0) v.reserved = buf[o]!;
    return v;
  },
});

export const timestamp = fixedOption<OptionOf<'timestamp'>>({
  name: 'Timestamp',
  kind: 'timestamp',
  type: () => OPT.timestamp,
  dataLength: 8,
  align: { x: 8, y: 2 },
  write: (v, buf, o) => {
    // 48-bit seconds: split into 16 high + 32 low bits (no BigInt on the hot path)
    const s = checkInt(v.seconds, 2 ** 48 - 1, 'Timestamp.seconds');
    const hi = Math.floor(s / 2 ** 32);
    put16(buf, o, hi, 'Timestamp.seconds');
    const lo = s - hi * 2 ** 32;
    buf[o + 2] = lo >>> 24;
    buf[o + 3] = (lo >>> 16) & 0xff;
    buf[o + 4] = (lo >>> 8) & 0xff;
    buf[o + 5] = lo & 0xff;
    put16(buf, o + 6, v.fraction, 'Timestamp.fraction');
  },
  read: (buf, o) => ({
    kind: 'timestamp',
    seconds: get16(buf, o) * 2 ** 32 + get32(buf, o + 2),
    fraction: get16(buf, o + 6),
  }),
});

export const multihoming = fixedOption<OptionOf<'multihoming'>>({
  name: 'Multihoming',
  kind: 'multihoming',
  type: () => OPT.multihoming,
  dataLength: 2,
  write: (v, buf, o) => {
    put8(buf, o, v.mhgid, 'Multihoming.mhgid');
    buf[o + 1] = (checkInt(v.act, 7, 'Multihoming.act') << 5) | checkInt(v.reserved ?? 0, 0x1f, 'Multihoming.reserved');
  },
  read: (buf, o) => {
    const b = buf[o + 1]!;
    const v: OptionOf<'multihoming'> = { kind: 'multihoming', mhgid: buf[o]!, act: b >>> 5 };
    if ((b & 0x1f) !== 0) v.reserved = b & 0x1f;
    return v;
  },
});

