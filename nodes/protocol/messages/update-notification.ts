// Update Notification (RFC 7077 4.1, MH type 19):
// Sequence u16 | Notification Reason u16 | A D + 14 reserved bits.
// (RFC 7077 Figure 3 and its text make the Reason 16 bits wide, so the
// message data is 6 octets; the registry's values fit in its low octet.)

import { bit, checkInt, get16, put16 } from '../bytes.js';
import { FLAGS, MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

const F = FLAGS.updateNotification;

export const updateNotification = bodyRecord({
  name: 'UpdateNotification',
  kind: 'updateNotification',
  type: () => MH.updateNotification,
  bodyLength: 6,
  write(v, buf, o) {
    put16(buf, o, v.sequence, 'UpdateNotification.sequence');
    put16(buf, o + 2, v.reason, 'UpdateNotification.reason');
    const word = bit(v.flags.A, F.A) | bit(v.flags.D, F.D) | checkInt(v.reserved ?? 0, 0x3fff, 'UpdateNotification.reserved');
    put16(buf, o + 4, word, 'UpdateNotification.flags');
  },
  read(buf, o) {
    const w = get16(buf, o + 4);
    return withReserved(
      {
        kind: 'updateNotification' as const,
        sequence: get16(buf, o),
        reason: get16(buf, o + 2),
        flags: { A: (w & F.A) !== 0, D: (w & F.D) !== 0 },
      },
      w & 0x3fff,
    );
  },
});
