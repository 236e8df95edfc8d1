// Proxy Binding Acknowledgement (RFC 5213 6.9.1.2):
// Status u8 | K R P + 5 reserved bits | Sequence u16 | Lifetime u16.

import { bit, checkInt, get16, put16, put8 } from '../bytes.js';
import { FLAGS, MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

const F = FLAGS.pba;

export const pba = bodyRecord({
  name: 'PBA',
  kind: 'pba',
  type: () => MH.bindingAck,
  bodyLength: 6,
  write(v, buf, o) {
    put8(buf, o, v.status, 'PBA.status');
    buf[o + 1] = bit(v.flags.K, F.K) | bit(v.flags.R, F.R) | bit(v.flags.P, F.P) | checkInt(v.reserved ?? 0, 0x1f, 'PBA.reserved');
    put16(buf, o + 2, v.sequence, 'PBA.sequence');
    put16(buf, o + 4, v.lifetime, 'PBA.lifetime');
  },
  read(buf, o) {
    const b = buf[o + 1]!;
    return withReserved(
      {
        kind: 'pba' as const,
        status: buf[o]!,
        flags: { K: (b & F.K) !== 0, R: (b & F.R) !== 0, P: (b & F.P) !== 0 },
        sequence: get16(buf, o + 2),
        lifetime: get16(buf, o + 4),
      },
      b & 0x1f,
    );
  },
});
