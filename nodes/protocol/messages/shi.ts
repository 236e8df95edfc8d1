// Streamless Handover Initiate (seed 004 5.1, MH type TBD):
// Sequence u16 | A + 15 reserved bits | Lifetime u16.

import { bit, checkInt, get16, put16 } from '../bytes.js';
import { FLAGS, MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

export const shi = bodyRecord({
  name: 'SHI',
  kind: 'shi',
  type: () => MH.shi,
  bodyLength: 6,
  write(v, buf, o) {
    put16(buf, o, v.sequence, 'SHI.sequence');
    put16(buf, o + 2, bit(v.flags.A, FLAGS.shi.A) | checkInt(v.reserved ?? 0, 0x7fff, 'SHI.reserved'), 'SHI.flags');
    put16(buf, o + 4, v.lifetime, 'SHI.lifetime');
  },
  read(buf, o) {
    const w = get16(buf, o + 2);
    return withReserved(
      {
        kind: 'shi' as const,
        sequence: get16(buf, o),
        flags: { A: (w & FLAGS.shi.A) !== 0 },
        lifetime: get16(buf, o + 4),
      },
      w & 0x7fff,
    );
  },
});
