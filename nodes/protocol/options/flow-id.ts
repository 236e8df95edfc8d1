// Flow Identification option (RFC 6089 4.2) with seed 002's PRO field.
//
// RFC 6089:  FID u16 | FID-PRI u16 | Reserved u8 | Status u8 | sub-options
// seed 002:  FID u16 | FID-PRI u8 | Action u8 | Rsvd 4 | PRO 4 | Status u8
// Both are the same 8 octets. We keep RFC 6089's 16-bit FID-PRI (seed 002's
// FID-PRI and Action are its high and low octet) and read PRO from the low
// nibble of RFC 6089's Reserved octet, where a pre-seed sender writes 0.
// PRO 2 = "flow binding re-instantiated by LMA" (numbers.ts FID_PRO).
//
// Sub-options (RFC 6089 4.2.1): Pad1 0 (one octet), PadN 1, BID Reference 2
// (a list of 16-bit BIDs), Traffic Selector 3 (RFC 6088), others kept raw.
// RFC 6089 has no Action field; Status values are numbers.ts FID_STATUS.
// The option is 2n-aligned. Sub-options are written as given: RFC 6089 asks
// for natural alignment of their fields (BID Reference 2n, an IPv6 selector
// up to 8n); callers who need it insert Pad1/PadN sub-options themselves.

import { checkInt, get16, put16, put8 } from '../bytes.js';
import { hexLength, toHex, writeHex } from '../hex.js';
import { FID_SUBOPT, OPT } from '../numbers.js';
import { fail, ok } from '../result.js';
import type { Decoded, FidSubOption, OptionOf, OptionRecord } from '../types.js';
import { readSelector, selectorLength, writeSelector } from './traffic-selector.js';
import { readTlv, writeTlv } from './tlv.js';

type Fid = OptionOf<'flowId'>;

function subLength(s: FidSubOption): number {
  switch (s.kind) {
    case 'pad1':
      return 1;
    case 'padN':
    case 'unknown':
      return 2 + hexLength(s.data, 'FlowIdentification.subOption.data');
    case 'bidReference':
      return 2 + 2 * s.bids.length;
    case 'trafficSelector':
    case 'trafficSelectorRaw':
      return 4 + selectorLength(s);
  }
}

function writeSub(s: FidSubOption, buf: Uint8Array, o: number): number {
  const name = 'FlowIdentification.subOption';
  switch (s.kind) {
    case 'pad1':
      buf[o] = FID_SUBOPT.pad1;
      return 1;
    case 'padN':
    case 'unknown': {
      const type = s.kind === 'padN' ? FID_SUBOPT.padN : checkInt(s.type, 0xff, `${name}.type`);
      if (s.kind === 'unknown' && type <= FID_SUBOPT.trafficSelector) {
        throw new RangeError(`${name}.type: ${type} has a record, not an unknown sub-option`);
      }
      const n = hexLength(s.data, `${name}.data`);
      writeTlv(buf, o, type, n, name);
      writeHex(s.data, buf, o + 2, `${name}.data`);
      return 2 + n;
    }
    case 'bidReference': {
      if (s.bids.length === 0) throw new RangeError(`${name}.bids: empty`);
      writeTlv(buf, o, FID_SUBOPT.bidReference, 2 * s.bids.length, name);
      s.bids.forEach((b, i) => put16(buf, o + 2 + 2 * i, b, `${name}.bids`));
      return 2 + 2 * s.bids.length;
    }
    case 'trafficSelector':
    case 'trafficSelectorRaw': {
      const n = selectorLength(s);
      writeTlv(buf, o, FID_SUBOPT.trafficSelector, 2 + n, name);
      return 2 + writeSelector(s, buf, o + 2);
    }
  }
}

function readSub(buf: Uint8Array, o: number, end: number): Decoded<FidSubOption> {
  const type = buf[o]!;
  if (type === FID_SUBOPT.pad1) return ok({ kind: 'pad1' }, 1);
  if (o + 2 > end) return fail('truncated', 'FlowIdentification.subOption.length', o + 1, 'sub-option header cut off');
  const len = buf[o + 1]!;
  const dataEnd = o + 2 + len;
  if (dataEnd > end) return fail('bad-length', 'FlowIdentification.subOption.length', o + 1, 'sub-option runs past the option');
  switch (type) {
    case FID_SUBOPT.padN:
      return ok({ kind: 'padN', data: toHex(buf, o + 2, dataEnd) }, 2 + len);
    case FID_SUBOPT.bidReference: {
      if (len === 0 || (len & 1) !== 0) {
        return fail('bad-length', 'FlowIdentification.bidReference.length', o + 1, `length ${len}, expected a positive even number`);
      }
      const bids: number[] = [];
      for (let i = o + 2; i < dataEnd; i += 2) bids.push(get16(buf, i));
      return ok({ kind: 'bidReference', bids }, 2 + len);
    }
    case FID_SUBOPT.trafficSelector: {
      const r = readSelector(buf, o + 2, dataEnd);
      if (!r.ok) return r;
      return ok(r.value, 2 + len);
    }
    default:
      return ok({ kind: 'unknown', type, data: toHex(buf, o + 2, dataEnd) }, 2 + len);
  }
}

export const flowId: OptionRecord<Fid> = {
  name: 'FlowIdentification',
  kinds: ['flowId'],
  align: { x: 2, y: 0 }, // RFC 6089 4.2: 2n
  get type() {
    return OPT.flowId;
  },
  length(v) {
    let n = 8;
    for (const s of v.subOptions) n += subLength(s);
    return n;
  },
  encode(v, buf, offset) {
    const total = flowId.length(v);
    writeTlv(buf, offset, OPT.flowId, total - 2, 'FlowIdentification');
    put16(buf, offset + 2, v.fid, 'FlowIdentification.fid');
    put16(buf, offset + 4, v.fidPri, 'FlowIdentification.fidPri');
    buf[offset + 6] = (checkInt(v.reserved ?? 0, 0xf, 'FlowIdentification.reserved') << 4) | checkInt(v.pro, 0xf, 'FlowIdentification.pro');
    put8(buf, offset + 7, v.status, 'FlowIdentification.status');
    let o = offset + 8;
    for (const s of v.subOptions) o += writeSub(s, buf, o);
    return o - offset;
  },
  decode(buf, offset, end) {
    const len = readTlv(buf, offset, end, 'FlowIdentification', (l) => l >= 6, 'at least 6');
    if (typeof len !== 'number') return len;
    const r = buf[offset + 6]!;
    const v: Fid = {
      kind: 'flowId',
      fid: get16(buf, offset + 2),
      fidPri: get16(buf, offset + 4),
      pro: r & 0xf,
      status: buf[offset + 7]!,
      subOptions: [],
    };
    if (r >>> 4 !== 0) v.reserved = r >>> 4;
    const dataEnd = offset + 2 + len;
    let o = offset + 8;
    while (o < dataEnd) {
      const s = readSub(buf, o, dataEnd);
      if (!s.ok) return s;
      v.subOptions.push(s.value);
      o += s.bytes;
    }
    return ok(v, 2 + len);
  },
};
