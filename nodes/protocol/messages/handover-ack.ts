// Handover Acknowledge (RFC 5568 6.2.3): Sequence u16 | Reserved u8 | Code u8.

import { get16, put16, put8 } from '../bytes.js';
import { MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

export const handoverAck = bodyRecord({
  name: 'HandoverAck',
  kind: 'handoverAck',
  type: () => MH.handoverAck,
  bodyLength: 4,
  write(v, buf, o) {
    put16(buf, o, v.sequence, 'HandoverAck.sequence');
    put8(buf, o + 2, v.reserved ?? 0, 'HandoverAck.reserved');
    put8(buf, o + 3, v.code, 'HandoverAck.code');
  },
  read: (buf, o) =>
    withReserved({ kind: 'handoverAck' as const, sequence: get16(buf, o), code: buf[o + 3]! }, buf[o + 2]!),
});
