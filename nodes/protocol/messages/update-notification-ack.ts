// Update Notification Acknowledgement (RFC 7077 4.2, MH type 20):
// Sequence u16 | Status Code u8 | Reserved 24 bits.

import { checkInt, get16, put16, put8 } from '../bytes.js';
import { MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

export const updateNotificationAck = bodyRecord({
  name: 'UpdateNotificationAck',
  kind: 'updateNotificationAck',
  type: () => MH.updateNotificationAck,
  bodyLength: 6,
  write(v, buf, o) {
    put16(buf, o, v.sequence, 'UpdateNotificationAck.sequence');
    put8(buf, o + 2, v.status, 'UpdateNotificationAck.status');
    const r = checkInt(v.reserved ?? 0, 0xffffff, 'UpdateNotificationAck.reserved');
    buf[o + 3] = r >>> 16;
    buf[o + 4] = (r >>> 8) & 0xff;
    buf[o + 5] = r & 0xff;
  },
  read: (buf, o) =>
    withReserved(
      { kind: 'updateNotificationAck' as const, sequence: get16(buf, o), status: buf[o + 2]! },
      buf[o + 3]! * 0x10000 + buf[o + 4]! * 0x100 + buf[o + 5]!,
    ),
});
