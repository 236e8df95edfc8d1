// Handover Initiate (RFC 5568 6.2.2, with RFC 5949's P and F flags):
// Sequence u16 | S U P F + 4 reserved bits | Code u8.

import { bit, checkInt, get16, put16, put8 } from '../bytes.js';
import { FLAGS, MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

const F = FLAGS.handoverInitiate;

export const handoverInitiate = bodyRecord({
  name: 'HandoverInitiate',
  kind: 'handoverInitiate',
  type: () => MH.handoverInitiate,
  bodyLength: 4,
  write(v, buf, o) {
    put16(buf, o, v.sequence, 'HandoverInitiate.sequence');
    const f = v.flags;
    buf[o + 2] = bit(f.S, F.S) | bit(f.U, F.U) | bit(f.P, F.P) | bit(f.F, F.F) | checkInt(v.reserved ?? 0, 0xf, 'HandoverInitiate.reserved');
    put8(buf, o + 3, v.code, 'HandoverInitiate.code');
  },
  read(buf, o) {
    const b = buf[o + 2]!;
    return withReserved(
      {
        kind: 'handoverInitiate' as const,
        sequence: get16(buf, o),
        flags: { S: (b & F.S) !== 0, U: (b & F.U) !== 0, P: (b & F.P) !== 0, F: (b & F.F) !== 0 },
        code: buf[o + 3]!,
      },
      b & 0xf,
    );
  },
});
