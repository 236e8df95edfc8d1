// Proxy Binding Update (RFC 5213 6.9.1.1 = RFC 6275 Binding Update with P):
// Sequence u16 | A H L K M R P + 9 reserved bits | Lifetime u16 (4 s units).

import { bit, checkInt, get16, put16 } from '../bytes.js';
import { FLAGS, MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

const F = FLAGS.pbu;

export const pbu = bodyRecord({
  name: 'PBU',
  kind: 'pbu',
  type: () => MH.bindingUpdate,
  bodyLength: 6,
  write(v, buf, o) {
    put16(buf, o, v.sequence, 'PBU.sequence');
    const f = v.flags;
    const word =
      bit(f.A, F.A) | bit(f.H, F.H) | bit(f.L, F.L) | bit(f.K, F.K) | bit(f.M, F.M) | bit(f.R, F.R) | bit(f.P, F.P) |
      checkInt(v.reserved ?? 0, 0x1ff, 'PBU.reserved');
    put16(buf, o + 2, word, 'PBU.flags');
    put16(buf, o + 4, v.lifetime, 'PBU.lifetime');
  },
  read(buf, o) {
    const w = get16(buf, o + 2);
    return withReserved(
      {
        kind: 'pbu' as const,
        sequence: get16(buf, o),
        flags: {
          A: (w & F.A) !== 0,
          H: (w & F.H) !== 0,
          L: (w & F.L) !== 0,
          K: (w & F.K) !== 0,
          M: (w & F.M) !== 0,
          R: (w & F.R) !== 0,
          P: (w & F.P) !== 0,
        },
        lifetime: get16(buf, o + 4),
      },
      w & 0x1ff,
    );
  },
});
