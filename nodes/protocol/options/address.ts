// Options whose data is one IPv6 address or a prefix: Home Network Prefix
// (RFC 5213 8.3), Link-local Address (RFC 5213 8.9), seed 003 Primary HoA.

import { put8 } from '../bytes.js';
import { formatIpv6, writeIpv6 } from '../ipv6text.js';
import { OPT } from '../numbers.js';
import { fail } from '../result.js';
import type { OptionOf } from '../types.js';
import { fixedOption } from './tlv.js';

export const hnp = fixedOption<OptionOf<'hnp'>>({
  name: 'HomeNetworkPrefix',
  kind: 'hnp',
  type: () => OPT.hnp,
  dataLength: 18,
  align: { x: 8, y: 4 },
  write: (v, buf, o) => {
    put8(buf, o, v.reserved ?? 0, 'HomeNetworkPrefix.reserved');
    if (!(v.prefixLength <= 128)) throw new RangeError(`HomeNetworkPrefix.prefixLength: ${v.prefixLength} > 128`);
    put8(buf, o + 1, v.prefixLength, 'HomeNetworkPrefix.prefixLength');
    writeIpv6(v.prefix, buf, o + 2, 'HomeNetworkPrefix.prefix');
  },
  read: (buf, o) => {
    const prefixLength = buf[o + 1]!;
    if (prefixLength > 128) {
      return fail('bad-value', 'HomeNetworkPrefix.prefixLength', o + 1, `prefix length ${prefixLength} > 128`);
    }
    const v: OptionOf<'hnp'> = { kind: 'hnp', prefix: formatIpv6(buf, o + 2), prefixLength };
    if (buf[o] !== 0) v.reserved = buf[o]!;
    return v;
  },
});

export const linkLocalAddress = fixedOption<OptionOf<'linkLocalAddress'>>({
  name: 'LinkLocalAddress',
  kind: 'linkLocalAddress',
  type: () => OPT.linkLocalAddress,
  dataLength: 16,
  align: { x: 8, y: 6 },
  write: (v, buf, o) => writeIpv6(v.address, buf, o, 'LinkLocalAddress.address'),
  read: (buf, o) => ({ kind: 'linkLocalAddress', address: formatIpv6(buf, o) }),
});

// The draft gives no alignment; 8n+6 (as Link-local Address) puts the address
// on an 8-octet boundary, which costs nothing and helps nobody less.
export const primaryHoa = fixedOption<OptionOf<'primaryHoa'>>({
  name: 'PrimaryHoa',
  kind: 'primaryHoa',
  type: () => OPT.primaryHoa,
  dataLength: 16,
  align: { x: 8, y: 6 },
  write: (v, buf, o) => writeIpv6(v.address, buf, o, 'PrimaryHoa.address'),
  read: (buf, o) => ({ kind: 'primaryHoa', address: formatIpv6(buf, o) }),
});
