// Pad1 and PadN (RFC 6275 6.2.2, 6.2.3). Decoded pads stay in the option list
// so a message re-encodes byte for byte; PadN keeps its data (normally zeros,
// which the receiver must ignore but we must reproduce).

import { ok, fail } from '../result.js';
import { OPT } from '../numbers.js';
import { hexLength, toHex, writeHex } from '../hex.js';
import type { OptionOf, OptionRecord } from '../types.js';
import { readTlv, writeTlv } from './tlv.js';

export const pad1: OptionRecord<OptionOf<'pad1'>> = {
  name: 'Pad1',
  kinds: ['pad1'],
  type: OPT.pad1,
  length: () => 1,
  encode(_v, buf, offset) {
    buf[offset] = OPT.pad1;
    return 1;
  },
  decode(_buf, offset, end) {
    if (offset >= end) return fail('truncated', 'Pad1', offset);
    return ok({ kind: 'pad1' }, 1);
  },
};

export const padN: OptionRecord<OptionOf<'padN'>> = {
  name: 'PadN',
  kinds: ['padN'],
  type: OPT.padN,
  length: (v) => 2 + hexLength(v.data, 'PadN.data'),
  encode(v, buf, offset) {
    const n = hexLength(v.data, 'PadN.data');
    writeTlv(buf, offset, OPT.padN, n, 'PadN');
    writeHex(v.data, buf, offset + 2, 'PadN.data');
    return 2 + n;
  },
  decode(buf, offset, end) {
    const len = readTlv(buf, offset, end, 'PadN');
    if (typeof len !== 'number') return len;
    return ok({ kind: 'padN', data: toHex(buf, offset + 2, offset + 2 + len) }, 2 + len);
  },
};
