// Heartbeat (RFC 5847 5.1): Reserved 14 bits | U | R | Sequence u32.

import { bit, get16, get32, put16, put32 } from '../bytes.js';
import { FLAGS, MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

const F = FLAGS.heartbeat;

export const heartbeat = bodyRecord({
  name: 'Heartbeat',
  kind: 'heartbeat',
  type: () => MH.heartbeat,
  bodyLength: 6,
  write(v, buf, o) {
    const r = v.reserved ?? 0;
    if ((r & 3) !== 0) throw new RangeError('Heartbeat.reserved: low two bits are the U and R flags');
    put16(buf, o, r | bit(v.flags.U, F.U) | bit(v.flags.R, F.R), 'Heartbeat.reserved');
    put32(buf, o + 2, v.sequence, 'Heartbeat.sequence');
  },
  read(buf, o) {
    const w = get16(buf, o);
    return withReserved(
      {
        kind: 'heartbeat' as const,
        flags: { U: (w & F.U) !== 0, R: (w & F.R) !== 0 },
        sequence: get32(buf, o + 2),
      },
      w & 0xfffc,
    );
  },
});
