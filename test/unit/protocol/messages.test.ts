import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeMessage, encodeMessage, messageLength, MessageSchema } from '../../../nodes/protocol/index.js';
import type { Message } from '../../../nodes/protocol/index.js';
import { message, paddedMessage } from '../../support/protocol-arbitraries.js';

const withoutPads = (m: Message) => m.options.filter((o) => o.kind !== 'pad1' && o.kind !== 'padN');

describe('whole messages', () => {
  test('encode: exact length, multiple of 8, HdrLen agrees, checksum field as given', () => {
    fc.assert(
      fc.property(message, (m) => {
        const b = encodeMessage(m);
        expect(b.length).toBe(messageLength(m));
        expect(b.length % 8).toBe(0);
        expect((b[1]! + 1) * 8).toBe(b.length);
        expect((b[4]! << 8) | b[5]!).toBe(m.checksum ?? 0);
      }),
      { numRuns: 1000 },
    );
  });

  test('decode(encode(m)) keeps m (plus the pads the encoder added); encode(decode(b)) = b', () => {
    fc.assert(
      fc.property(message, (m) => {
        const b = encodeMessage(m);
        const d = decodeMessage(b);
        expect(d.ok).toBe(true);
        if (!d.ok) return;
        expect({ ...d.value, options: withoutPads(d.value) }).toEqual(m);
        expect(encodeMessage(d.value)).toEqual(b);
      }),
      { numRuns: 1500 },
    );
  });

  test('differently padded inputs (extra Pad1/PadN, longer tails) re-encode byte for byte', () => {
    fc.assert(
      fc.property(paddedMessage, (m) => {
        const b = encodeMessage(m); // verbatim: the list has pads
        const d = decodeMessage(b);
        expect(d.ok).toBe(true);
        if (!d.ok) return;
        expect(d.value).toEqual(m);
        expect(encodeMessage(d.value)).toEqual(b);
      }),
      { numRuns: 1000 },
    );
  });

  test('decoded values are JSON-safe and valid against MessageSchema', () => {
    fc.assert(
      fc.property(fc.oneof(message, paddedMessage), (m) => {
        const d = decodeMessage(encodeMessage(m));
        if (!d.ok) throw new Error(d.error.field);
        const json = JSON.parse(JSON.stringify(d.value)) as unknown;
        const parsed = MessageSchema.parse(json);
        expect(encodeMessage(parsed)).toEqual(encodeMessage(d.value));
      }),
      { numRuns: 500 },
    );
  });

  test('schema fills defaults for terse CLI input', () => {
    const m = MessageSchema.parse({ kind: 'pbu', sequence: 1, lifetime: 10, flags: { A: true, P: true } });
    expect(m.options).toEqual([]);
    expect(m.kind === 'pbu' && m.flags.H).toBe(false);
    expect(Buffer.from(encodeMessage(m)).toString('hex')).toBe(
      // header (HdrLen 1: 12 octets of header+data pad to 16), seq 1, A|P, lifetime 10, PadN(0)+2
      '3b0105000000' + '0001' + '8200' + '000a' + '0102' + '0000',
    );
  });

  test('typical PBU bytes (hand-checked layout)', () => {
    const pbu: Message = {
      kind: 'pbu',
      sequence: 7,
      flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true },
      lifetime: 100,
      options: [
        { kind: 'mnId', nai: 'mn1@lab' },
        { kind: 'hnp', prefix: '2001:db8:1::', prefixLength: 64 },
        { kind: 'handoffIndicator', value: 1 },
        { kind: 'accessTechnologyType', value: 4 },
        { kind: 'timestamp', seconds: 1, fraction: 0 },
      ],
    };
    const b = encodeMessage(pbu);
    expect(b[12]).toBe(8); // MN-ID right after the 12 octets of header + data
    expect(b[28]).toBe(22); // HNP at 8n+4
    expect(b.indexOf(27)).toBeGreaterThan(0);
    const ts = b.indexOf(27, 46);
    expect(ts % 8).toBe(2); // Timestamp at 8n+2
    expect(b.length % 8).toBe(0);
  });
});
