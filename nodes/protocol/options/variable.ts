// Variable-length options: MN Identifier (RFC 4283, NAI subtype only), MN
// Link-layer Identifier (RFC 5213 8.7, plus seed 003's IFP/P form), GRE Key
// (RFC 5845 3.1: key optional), Binding Identifier (RFC 5648 6.1), LMA
// Address (RFC 5949 6.2.2) and unknown options (RFC 6275 9.2: skipped, here
// kept verbatim).

import { checkInt, get16, get32, put16, put32, put8 } from '../bytes.js';
import { hexLength, toHex, writeHex } from '../hex.js';
import { formatIpv4, formatIpv6, parseIpv4Into4, parseIpv6Into } from '../ipv6text.js';
import { FLAGS, LMA_ADDRESS_CODE, MNID_SUBTYPE, OPT } from '../numbers.js';
import { fail, ok } from '../result.js';
import type { OptionOf, OptionRecord } from '../types.js';
import { isWellFormed, readUtf8, utf8Length, writeUtf8 } from '../utf8.js';
import { readTlv, writeTlv } from './tlv.js';

export const mnId: OptionRecord<OptionOf<'mnId'>> = {
  name: 'MnIdentifier',
  kinds: ['mnId'],
  get type() {
    return OPT.mnId;
  },
  length: (v) => 3 + utf8Length(v.nai),
  encode(v, buf, offset) {
    const n = utf8Length(v.nai);
    if (n === 0) throw new RangeError('MnIdentifier.nai: empty');
    if (!isWellFormed(v.nai)) throw new RangeError('MnIdentifier.nai: lone surrogate');
    writeTlv(buf, offset, OPT.mnId, n + 1, 'MnIdentifier');
    buf[offset + 2] = MNID_SUBTYPE.nai;
    writeUtf8(v.nai, buf, offset + 3);
    return 3 + n;
  },
  decode(buf, offset, end) {
    const len = readTlv(buf, offset, end, 'MnIdentifier', (l) => l >= 2, 'at least 2 (subtype + identifier)');
    if (typeof len !== 'number') return len;
    const subtype = buf[offset + 2]!;
    if (subtype !== MNID_SUBTYPE.nai) {
      return fail('bad-value', 'MnIdentifier.subtype', offset + 2, `subtype ${subtype}, only 1 (NAI) is supported`);
    }
    const nai = readUtf8(buf, offset + 3, offset + 2 + len);
    if (nai === undefined) return fail('bad-value', 'MnIdentifier.identifier', offset + 3, 'NAI is not valid UTF-8');
    return ok({ kind: 'mnId', nai }, 2 + len);
  },
};

type MnLl = OptionOf<'mnLinkLayerId'> | OptionOf<'mnLinkLayerIdExt'>;

/**
 * One wire type (25) with two forms. RFC 5213 has a 16-bit Reserved field
 * before the identifier; seed 003 puts IFP (8 bits), P (1 bit) and 7 reserved
 * bits in exactly those two octets. An RFC 5213 receiver ignores Reserved, so
 * reusing the type stays interoperable. We tell the forms apart by those two
 * octets: all zero = 'mnLinkLayerId' (plain), anything else =
 * 'mnLinkLayerIdExt'. Consequently an Ext value with IFP 0, P clear and no
 * reserved bits would be the plain form on the wire, and encode refuses it.
 */
export const mnLinkLayerId: OptionRecord<MnLl> = {
  name: 'MnLinkLayerId',
  kinds: ['mnLinkLayerId', 'mnLinkLayerIdExt'],
  get type() {
    return OPT.mnLinkLayerId;
  },
  length: (v) => 4 + hexLength(v.identifier, 'MnLinkLayerId.identifier'),
  encode(v, buf, offset) {
    const n = hexLength(v.identifier, 'MnLinkLayerId.identifier');
    if (n === 0) throw new RangeError('MnLinkLayerId.identifier: empty');
    writeTlv(buf, offset, OPT.mnLinkLayerId, n + 2, 'MnLinkLayerId');
    if (v.kind === 'mnLinkLayerId') {
      buf[offset + 2] = 0;
      buf[offset + 3] = 0;
    } else {
      put8(buf, offset + 2, v.ifp, 'MnLinkLayerId.ifp');
      const second = (v.flags.P ? FLAGS.mnLinkLayerIdExt.P : 0) | checkInt(v.reserved ?? 0, 0x7f, 'MnLinkLayerId.reserved');
      if (v.ifp === 0 && second === 0) {
        throw new RangeError('MnLinkLayerId: mnLinkLayerIdExt with IFP 0 and P clear is the plain form; use kind mnLinkLayerId');
      }
      buf[offset + 3] = second;
    }
    writeHex(v.identifier, buf, offset + 4, 'MnLinkLayerId.identifier');
    return 4 + n;
  },
  decode(buf, offset, end) {
    const len = readTlv(buf, offset, end, 'MnLinkLayerId', (l) => l >= 3, 'at least 3 (reserved + identifier)');
    if (typeof len !== 'number') return len;
    const identifier = toHex(buf, offset + 4, offset + 2 + len);
    const ifp = buf[offset + 2]!;
    const second = buf[offset + 3]!;
    if (ifp === 0 && second === 0) return ok({ kind: 'mnLinkLayerId', identifier }, 2 + len);
    const v: OptionOf<'mnLinkLayerIdExt'> = {
      kind: 'mnLinkLayerIdExt',
      ifp,
      flags: { P: (second & FLAGS.mnLinkLayerIdExt.P) !== 0 },
      identifier,
    };
    if ((second & 0x7f) !== 0) v.reserved = second & 0x7f;
    return ok(v, 2 + len);
  },
};

export const greKey: OptionRecord<OptionOf<'greKey'>> = {
  name: 'GreKey',
  kinds: ['greKey'],
  align: { x: 4, y: 0 }, // RFC 5845 3.1: 4n; puts the key on a 4-octet boundary
  get type() {
    return OPT.greKey;
  },
  length: (v) => (v.key === undefined ? 4 : 8),
  encode(v, buf, offset) {
    const has = v.key !== undefined;
    writeTlv(buf, offset, OPT.greKey, has ? 6 : 2, 'GreKey');
    put16(buf, offset + 2, v.reserved ?? 0, 'GreKey.reserved');
    if (v.key !== undefined) put32(buf, offset + 4, v.key, 'GreKey.key');
    return has ? 8 : 4;
  },
  decode(buf, offset, end) {
    const len = readTlv(buf, offset, end, 'GreKey', (l) => l === 2 || l === 6, '2 or 6');
    if (typeof len !== 'number') return len;
    const v: OptionOf<'greKey'> = { kind: 'greKey' };
    const r = get16(buf, offset + 2);
    if (r !== 0) v.reserved = r;
    if (len === 6) v.key = get32(buf, offset + 4);
    return ok(v, 2 + len);
  },
};

/** Writes an IPv4 or IPv6 text address; returns its octet count (4 or 16), throws if neither. */
function writeAnyAddress(s: string, buf: Uint8Array, offset: number, field: string): number {
  if (s.includes(':')) {
    if (parseIpv6Into(s, buf, offset)) return 16;
  } else if (parseIpv4Into4(s, buf, offset)) return 4;
  throw new RangeError(`${field}: not an IPv4 or IPv6 address: ${JSON.stringify(s)}`);
}

function addressLength(s: string): number {
  return s.includes(':') ? 16 : 4;
}

// RFC 5648 6.1 (BID-PRI from RFC 6089 4.1): 2n without a care-of address,
// 8n+2 with one (puts an IPv6 CoA on an 8-octet boundary).
const BID_ALIGN_NO_COA = { x: 2, y: 0 } as const;
const BID_ALIGN_COA = { x: 8, y: 2 } as const;

export const bindingId: OptionRecord<OptionOf<'bindingId'>> = {
  name: 'BindingIdentifier',
  kinds: ['bindingId'],
  get type() {
    return OPT.bindingId;
  },
  alignFor: (v) => (v.careOf === undefined ? BID_ALIGN_NO_COA : BID_ALIGN_COA),
  length: (v) => 6 + (v.careOf === undefined ? 0 : addressLength(v.careOf)),
  encode(v, buf, offset) {
    const n = v.careOf === undefined ? 0 : addressLength(v.careOf);
    writeTlv(buf, offset, OPT.bindingId, 4 + n, 'BindingIdentifier');
    put16(buf, offset + 2, v.bid, 'BindingIdentifier.bid');
    put8(buf, offset + 4, v.status, 'BindingIdentifier.status');
    buf[offset + 5] = (v.flags.H ? FLAGS.bindingId.H : 0) | checkInt(v.bidPri, 0x7f, 'BindingIdentifier.bidPri');
    if (v.careOf !== undefined) writeAnyAddress(v.careOf, buf, offset + 6, 'BindingIdentifier.careOf');
    return 6 + n;
  },
  decode(buf, offset, end) {
    const len = readTlv(buf, offset, end, 'BindingIdentifier', (l) => l === 4 || l === 8 || l === 20, '4, 8 or 20');
    if (typeof len !== 'number') return len;
    const b = buf[offset + 5]!;
    const v: OptionOf<'bindingId'> = {
      kind: 'bindingId',
      bid: get16(buf, offset + 2),
      status: buf[offset + 4]!,
      flags: { H: (b & FLAGS.bindingId.H) !== 0 },
      bidPri: b & 0x7f,
    };
    if (len === 8) v.careOf = formatIpv4(buf, offset + 6);
    else if (len === 20) v.careOf = formatIpv6(buf, offset + 6);
    return ok(v, 2 + len);
  },
};

export const lmaAddress: OptionRecord<OptionOf<'lmaAddress'>> = {
  name: 'LmaAddress',
  kinds: ['lmaAddress'],
  get type() {
    return OPT.lmaAddress;
  },
  length: (v) => 4 + addressLength(v.address),
  encode(v, buf, offset) {
    const n = addressLength(v.address);
    writeTlv(buf, offset, OPT.lmaAddress, 2 + n, 'LmaAddress');
    buf[offset + 2] = n === 16 ? LMA_ADDRESS_CODE.ipv6 : LMA_ADDRESS_CODE.ipv4;
    put8(buf, offset + 3, v.reserved ?? 0, 'LmaAddress.reserved');
    writeAnyAddress(v.address, buf, offset + 4, 'LmaAddress.address');
    return 4 + n;
  },
  decode(buf, offset, end) {
    const len = readTlv(buf, offset, end, 'LmaAddress', (l) => l === 6 || l === 18, '6 or 18');
    if (typeof len !== 'number') return len;
    const code = buf[offset + 2]!;
    const want = len === 18 ? LMA_ADDRESS_CODE.ipv6 : LMA_ADDRESS_CODE.ipv4;
    if (code !== want) {
      return fail('bad-value', 'LmaAddress.code', offset + 2, `option code ${code} with length ${len}, expected ${want}`);
    }
    const address = len === 18 ? formatIpv6(buf, offset + 4) : formatIpv4(buf, offset + 4);
    const v: OptionOf<'lmaAddress'> = { kind: 'lmaAddress', address };
    if (buf[offset + 3] !== 0) v.reserved = buf[offset + 3]!;
    return ok(v, 2 + len);
  },
};

/** Options we have no record for: kept as type + raw data (RFC 6275 9.2 says skip them). */
export const unknownOption: OptionRecord<OptionOf<'unknown'>> = {
  name: 'UnknownOption',
  kinds: ['unknown'],
  type: -1,
  length: (v) => 2 + hexLength(v.data, 'UnknownOption.data'),
  encode(v, buf, offset) {
    const n = hexLength(v.data, 'UnknownOption.data');
    if (v.type === OPT.pad1) throw new RangeError('UnknownOption.type: 0 is Pad1');
    writeTlv(buf, offset, checkInt(v.type, 0xff, 'UnknownOption.type'), n, 'UnknownOption');
    writeHex(v.data, buf, offset + 2, 'UnknownOption.data');
    return 2 + n;
  },
  decode(buf, offset, end) {
    const len = readTlv(buf, offset, end, 'UnknownOption');
    if (typeof len !== 'number') return len;
    return ok({ kind: 'unknown', type: buf[offset]!, data: toHex(buf, offset + 2, offset + 2 + len) }, 2 + len);
  },
};
