// Handover Acknowledge (RFC 5568 6.2.1.2, with RFC 5949 6.1.2's flags):
// Sequence u16 | U P F + 5 reserved bits | Code u8.
// (RFC 5568 has a Reserved octet there; RFC 5949 takes its top three bits.)

import { bit, checkInt, get16, put16, put8 } from '../bytes.js';
import { FLAGS, MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

const F = FLAGS.handoverAck;

export const handoverAck = bodyRecord({
  name: 'HandoverAck',
  kind: 'handoverAck',
  type: () => MH.handoverAck,
  bodyLength: 4,
  write(v, buf, o) {
    put16(buf, o, v.sequence, 'HandoverAck.sequence');
    const f = v.flags;
    buf[o + 2] = bit(f.U, F.U) | bit(f.P, F.P) | bit(f.F, F.F) | checkInt(v.reserved ?? 0, 0x1f, 'HandoverAck.reserved');
    put8(buf, o + 3, v.code, 'HandoverAck.code');
  },
  read(buf, o) {
    const b = buf[o + 2]!;
    return withReserved(
      {
        kind: 'handoverAck' as const,
        sequence: get16(buf, o),
        flags: { U: (b & F.U) !== 0, P: (b & F.P) !== 0, F: (b & F.F) !== 0 },
        code: buf[o + 3]!,
      },
      b & 0x1f,
    );
  },
});
