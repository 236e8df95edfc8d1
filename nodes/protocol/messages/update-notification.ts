// Update Notification (RFC 7077 4.1, MH type 19):
// Sequence u16 | Notification Reason u8 | A D + 6 reserved bits.

import { bit, checkInt, get16, put16, put8 } from '../bytes.js';
import { FLAGS, MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

const F = FLAGS.updateNotification;

export const updateNotification = bodyRecord({
  name: 'UpdateNotification',
  kind: 'updateNotification',
  type: () => MH.updateNotification,
  bodyLength: 4,
  write(v, buf, o) {
    put16(buf, o, v.sequence, 'UpdateNotification.sequence');
    put8(buf, o + 2, v.reason, 'UpdateNotification.reason');
    buf[o + 3] = bit(v.flags.A, F.A) | bit(v.flags.D, F.D) | checkInt(v.reserved ?? 0, 0x3f, 'UpdateNotification.reserved');
  },
  read(buf, o) {
    const b = buf[o + 3]!;
    return withReserved(
      {
        kind: 'updateNotification' as const,
        sequence: get16(buf, o),
        reason: buf[o + 2]!,
        flags: { A: (b & F.A) !== 0, D: (b & F.D) !== 0 },
      },
      b & 0x3f,
    );
  },
});
