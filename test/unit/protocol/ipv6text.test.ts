import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { expect, test } from 'vitest';
import { formatIpv6, isIpv6Text, parseIpv6Into } from '../../../nodes/protocol/index.js';
import { ipv6Bytes } from '../../support/protocol-arbitraries.js';

test('format is RFC 5952 canonical (as ipaddr.js) and parse inverts it', () => {
  fc.assert(
    fc.property(ipv6Bytes, (b) => {
      const s = formatIpv6(b, 0);
      expect(s).toBe((ipaddr.fromByteArray(Array.from(b)) as ipaddr.IPv6).toRFC5952String());
      const back = new Uint8Array(16);
      expect(parseIpv6Into(s, back, 0)).toBe(true);
      expect(back).toEqual(b);
      // the long form parses to the same octets
      const long = (ipaddr.fromByteArray(Array.from(b)) as ipaddr.IPv6).toNormalizedString();
      const back2 = new Uint8Array(16);
      expect(parseIpv6Into(long.toUpperCase(), back2, 0)).toBe(true);
      expect(back2).toEqual(b);
    }),
    { numRuns: 3000 },
  );
});

test('accepted and refused text forms', () => {
  for (const s of ['::', '::1', '1::', 'fe80::1', '2001:db8::1:0:0:1', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4']) {
    expect(isIpv6Text(s), s).toBe(true);
  }
  for (const s of ['', ':', ':::', '1:2', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'g::', '::1.2.3', '::1.2.3.256', '1::2:', ':1::2', 'fe80::1%eth0', '1:2:3:4:5:6:7::8']) {
    expect(isIpv6Text(s), s).toBe(false);
  }
  const b = new Uint8Array(16);
  parseIpv6Into('::ffff:192.0.2.1', b, 0);
  expect(formatIpv6(b, 0)).toBe('::ffff:c000:201');
});
