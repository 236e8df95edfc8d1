import fc from 'fast-check';
import { expect, test } from 'vitest';
import { mhChecksum, withChecksum } from '../../../nodes/protocol/index.js';

const addr = (s: string) => {
  const b = new Uint8Array(16);
  const hex = s.replace(/:/g, '');
  for (let i = 0; i < 16; i++) b[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return b;
};
const src = addr('fe80:0000:0000:0000:0000:0000:0000:0001');
const dst = addr('fe80:0000:0000:0000:0000:0000:0000:0002');

test('known vector, summed by hand', () => {
  // MH 3b 00 06 00 [cksum] 00 00, src fe80::1, dst fe80::2, length 8, next header 135:
  // fe81 + fe82 + 0008 + 0087 + 3b00 + 0600 + 0000 = 0x23e92 -> fold 0x3e94 -> ~ = 0xc16b
  const mh = new Uint8Array([0x3b, 0x00, 0x06, 0x00, 0x12, 0x34, 0x00, 0x00]);
  expect(mhChecksum(src, dst, mh)).toBe(0xc16b); // the checksum field itself is ignored
  const out = withChecksum(mh, src, dst);
  expect([out[4], out[5]]).toEqual([0xc1, 0x6b]);
  expect(mh[4]).toBe(0x12); // input untouched
});

test('a filled-in MH sums to 0xffff (receiver check)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 8, maxLength: 64 }), (s, d, mh) => {
      const m = withChecksum(mh, s, d);
      let sum = 0;
      const words = (b: Uint8Array) => {
        for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
      };
      words(s);
      words(d);
      sum += m.length + 135;
      words(m);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      expect(sum === 0xffff || (m[4] === 0 && m[5] === 0)).toBe(true);
    }),
  );
});
