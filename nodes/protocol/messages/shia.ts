// Streamless Handover Acknowledge (seed 004 5.2, MH type TBD):
// Sequence u16 | Reserved u8 | Status u8 | Lifetime u16.

import { get16, put16, put8 } from '../bytes.js';
import { MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

export const shia = bodyRecord({
  name: 'SHIA',
  kind: 'shia',
  type: () => MH.shia,
  bodyLength: 6,
  write(v, buf, o) {
    put16(buf, o, v.sequence, 'SHIA.sequence');
    put8(buf, o + 2, v.reserved ?? 0, 'SHIA.reserved');
    put8(buf, o + 3, v.status, 'SHIA.status');
    put16(buf, o + 4, v.lifetime, 'SHIA.lifetime');
  },
  read: (buf, o) =>
    withReserved(
      { kind: 'shia' as const, sequence: get16(buf, o), status: buf[o + 3]!, lifetime: get16(buf, o + 4) },
      buf[o + 2]!,
    ),
});
