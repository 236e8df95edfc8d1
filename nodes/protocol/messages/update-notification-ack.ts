// Update Notification Acknowledgement (RFC 7077 4.2, MH type 20):
// Sequence u16 | Status u8 | Reserved u8.

import { get16, put16, put8 } from '../bytes.js';
import { MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

export const updateNotificationAck = bodyRecord({
  name: 'UpdateNotificationAck',
  kind: 'updateNotificationAck',
  type: () => MH.updateNotificationAck,
  bodyLength: 4,
  write(v, buf, o) {
    put16(buf, o, v.sequence, 'UpdateNotificationAck.sequence');
    put8(buf, o + 2, v.status, 'UpdateNotificationAck.status');
    put8(buf, o + 3, v.reserved ?? 0, 'UpdateNotificationAck.reserved');
  },
  read: (buf, o) =>
    withReserved(
      { kind: 'updateNotificationAck' as const, sequence: get16(buf, o), status: buf[o + 2]! },
      buf[o + 3]!,
    ),
});
