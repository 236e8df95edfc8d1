// Binding Error (RFC 6275 6.1.9): Status u8 | Reserved u8 | Home Address 16.

import { put8 } from '../bytes.js';
import { formatIpv6, writeIpv6 } from '../ipv6text.js';
import { MH } from '../numbers.js';
import { bodyRecord, withReserved } from './body.js';

export const bindingError = bodyRecord({
  name: 'BindingError',
  kind: 'bindingError',
  type: () => MH.bindingError,
  bodyLength: 18,
  write(v, buf, o) {
    put8(buf, o, v.status, 'BindingError.status');
    put8(buf, o + 1, v.reserved ?? 0, 'BindingError.reserved');
    writeIpv6(v.homeAddress, buf, o + 2, 'BindingError.homeAddress');
  },
  read: (buf, o) =>
    withReserved({ kind: 'bindingError' as const, status: buf[o]!, homeAddress: formatIpv6(buf, o + 2) }, buf[o + 1]!),
});
