// Byte-exact layouts checked against the RFC figures (RFC 5213 8.2, RFC 5568
// 6.2.1, RFC 5648 6.1, RFC 5847 3.3, RFC 5949 6.1, RFC 6088 3.2, RFC 6089 4.2,
// RFC 6275 6.1.9, RFC 7077 4.1/4.2), and the strictness of the JSON schema.

import { describe, expect, test } from 'vitest';
import { decodeMessage, encodeMessage, MessageSchema } from '../../../nodes/protocol/index.js';
import type { Message, MobilityOption } from '../../../nodes/protocol/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Message data: the octets after the 6-octet fixed header, up to `n`. */
const data = (m: Message, n: number) => hex(encodeMessage(m).subarray(6, 6 + n));

function roundTrips(m: Message): Uint8Array {
  const b = encodeMessage(m);
  const d = decodeMessage(b);
  expect(d.ok).toBe(true);
  if (d.ok) expect(hex(encodeMessage(d.value))).toBe(hex(b));
  return b;
}

describe('message data layouts', () => {
  test('UPN (RFC 7077 4.1): Sequence 16 | Notification Reason 16 | A D + 14 reserved bits', () => {
    const m: Message = { kind: 'updateNotification', sequence: 0x1234, reason: 0x0102, flags: { A: true, D: false }, reserved: 1, options: [] };
    expect(data(m, 6)).toBe('1234' + '0102' + '8001');
    expect(data({ ...m, flags: { A: false, D: true }, reserved: undefined, reason: 8 }, 6)).toBe('1234' + '0008' + '4000');
    const b = roundTrips(m);
    expect(b.length).toBe(16); // 6 + 6, padded to 8n
    expect(b[2]).toBe(19);
  });

  test('UPA (RFC 7077 4.2): Sequence 16 | Status 8 | Reserved 24', () => {
    const m: Message = { kind: 'updateNotificationAck', sequence: 77, status: 129, options: [] };
    expect(data(m, 6)).toBe('004d' + '81' + '000000');
    expect(data({ ...m, reserved: 0xabcdef }, 6)).toBe('004d81abcdef');
    const b = roundTrips({ ...m, reserved: 0xabcdef });
    expect(b[2]).toBe(20);
    expect(b.length).toBe(16);
  });

  test('HAck (RFC 5949 6.1.2): Sequence 16 | U P F + 5 reserved bits | Code 8', () => {
    const m: Message = { kind: 'handoverAck', sequence: 300, flags: { U: true, P: true, F: false }, code: 5, options: [] };
    expect(data(m, 4)).toBe('012c' + 'c0' + '05');
    expect(data({ ...m, flags: { U: false, P: false, F: true }, reserved: 0x1f }, 4)).toBe('012c3f05');
    roundTrips({ ...m, reserved: 3 });
  });

  test('HI (RFC 5568 6.2.1.1 + RFC 5949 6.1.1): Sequence 16 | S U P F + 4 reserved bits | Code 8', () => {
    const m: Message = { kind: 'handoverInitiate', sequence: 1, flags: { S: false, U: true, P: true, F: true }, code: 3, options: [] };
    expect(data(m, 4)).toBe('0001' + '70' + '03');
  });

  test('Heartbeat (RFC 5847 3.3): Reserved 14 bits | U | R | Sequence 32', () => {
    const m: Message = { kind: 'heartbeat', flags: { U: true, R: false }, sequence: 0xdeadbeef, options: [] };
    expect(data(m, 6)).toBe('0002' + 'deadbeef');
    expect(data({ ...m, flags: { U: false, R: true } }, 6)).toBe('0001deadbeef');
  });

  test('PBA (RFC 5213 8.2): Status 8 | K R P + 5 reserved bits | Sequence 16 | Lifetime 16', () => {
    const m: Message = { kind: 'pba', status: 0, flags: { K: false, R: false, P: true }, sequence: 9, lifetime: 60, options: [] };
    expect(data(m, 6)).toBe('00' + '20' + '0009' + '003c');
    expect(data({ ...m, flags: { K: true, R: true, P: false } }, 2)).toBe('00c0');
  });

  test('Binding Error (RFC 6275 6.1.9): Status 8 | Reserved 8 | Home Address', () => {
    const m: Message = { kind: 'bindingError', status: 2, homeAddress: '2001:db8::1', options: [] };
    expect(data(m, 18)).toBe('0200' + '20010db8000000000000000000000001');
  });
});

describe('option alignment', () => {
  const mnId: MobilityOption = { kind: 'mnId', nai: 'a' }; // 3 octets: shifts what follows off 2n
  const optionOffsets = (b: Uint8Array, start: number) => {
    const out: Array<[number, number]> = [];
    for (let q = start; q < b.length; ) {
      out.push([b[q]!, q]);
      q += b[q] === 0 ? 1 : 2 + b[q + 1]!;
    }
    return out;
  };

  test('Binding Identifier is 2n without a CoA and 8n+2 with one (RFC 5648 6.1)', () => {
    const noCoa: MobilityOption = { kind: 'bindingId', bid: 1, status: 0, flags: { H: false }, bidPri: 1 };
    const withCoa: MobilityOption = { ...noCoa, careOf: '2001:db8::7' } as MobilityOption;
    const b = roundTrips({ kind: 'pba', status: 0, flags: { K: false, R: false, P: true }, sequence: 1, lifetime: 1, options: [mnId, noCoa, mnId, withCoa] });
    const at = optionOffsets(b, 12).filter(([t]) => t === 35).map(([, q]) => q);
    expect(at).toHaveLength(2);
    expect(at[0]! % 2).toBe(0);
    expect(at[1]! % 8).toBe(2);
  });

  test('a Binding Identifier with a CoA off 8n+2 is refused on decode', () => {
    const withCoa: MobilityOption = { kind: 'bindingId', bid: 1, status: 0, flags: { H: false }, bidPri: 1, careOf: '192.0.2.1' };
    const good = encodeMessage({ kind: 'pba', status: 0, flags: { K: false, R: false, P: true }, sequence: 1, lifetime: 1, options: [withCoa] });
    // at MH offset 12 the option needs 6 octets of padding first (12 -> 18 = 8*2+2)
    expect(hex(good.subarray(12, 18))).toBe('010400000000');
    const bad = new Uint8Array(24);
    bad.set(good.subarray(0, 12));
    bad[1] = 2;
    bad.set(good.subarray(18, 28), 12); // the option at 12 (8n+4)
    bad[22] = 1; // PadN(0) at the tail
    const d = decodeMessage(bad);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error).toMatchObject({ code: 'bad-value', field: 'BindingIdentifier.alignment', offset: 12 });
  });

  test('Flow Identification is 2n (RFC 6089 4.2)', () => {
    const fid: MobilityOption = { kind: 'flowId', fid: 1, fidPri: 2, pro: 0, status: 0, subOptions: [] };
    const b = roundTrips({ kind: 'pbu', sequence: 1, flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true }, lifetime: 1, options: [mnId, fid] });
    const at = optionOffsets(b, 12).find(([t]) => t === 45)![1];
    expect(at % 2).toBe(0);
  });
});

describe('Flow Identification option (RFC 6089 4.2) and IPv6 traffic selector (RFC 6088 3.2)', () => {
  test('FID 16 | FID-PRI 16 | Reserved 8 | Status 8 | sub-options: BID Reference (2), Traffic Selector (3)', () => {
    const fid: MobilityOption = {
      kind: 'flowId', fid: 0x0102, fidPri: 0x0304, pro: 0, status: 133,
      subOptions: [
        { kind: 'bidReference', bids: [7, 8] },
        { kind: 'trafficSelector', srcStart: '2001:db8::1', dstStart: '2001:db8::2', srcPortStart: 1000, dstPortStart: 53, dstPortEnd: 54, nextHeaderStart: 17 },
      ],
    };
    const b = encodeMessage({ kind: 'pbu', sequence: 1, flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true }, lifetime: 1, options: [fid] });
    const q = 12; // 2n already
    expect(b[q]).toBe(45);
    const body = hex(b.subarray(q + 2, q + 2 + b[q + 1]!));
    const ts =
      '03' + (2 + 4 + 16 + 16 + 2 + 2 + 2 + 1).toString(16).padStart(2, '0') + // type 3, length
      '02' + '00' + // TS Format 2 (IPv6), Reserved
      // flags A..P: A (src start), C (dst start), I (src port start), K, L (dst ports), O (NH start)
      'a0' + 'b2' + '0000' + // A|C = 0xa0; I|K|L|O = 0x80|0x20|0x10|0x02; then 16 reserved bits
      '20010db8000000000000000000000001' + '20010db8000000000000000000000002' +
      '03e8' + '0035' + '0036' + '11';
    expect(body).toBe('0102' + '0304' + '00' + '85' + '0204' + '00070008' + ts);
  });
});

describe('MessageSchema is strict', () => {
  const pbu = { kind: 'pbu', sequence: 1, lifetime: 10, flags: { A: true, P: true } };

  test('accepts a well-formed message', () => {
    expect(MessageSchema.safeParse(pbu).success).toBe(true);
  });

  test('refuses an unknown flag such as flags: {Q: true}', () => {
    const r = MessageSchema.safeParse({ ...pbu, flags: { ...pbu.flags, Q: true } });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.map((i) => [i.code, i.path.join('.')])).toContainEqual(['unrecognized_keys', 'flags']);
  });

  test('refuses unknown keys at the top level, in options and in FID sub-options', () => {
    expect(MessageSchema.safeParse({ ...pbu, lifetme: 10 }).success).toBe(false);
    expect(MessageSchema.safeParse({ ...pbu, options: [{ kind: 'mnId', nai: 'a', subtype: 1 }] }).success).toBe(false);
    expect(
      MessageSchema.safeParse({
        ...pbu,
        options: [{ kind: 'flowId', fid: 1, fidPri: 1, status: 0, subOptions: [{ kind: 'bidReference', bids: [1], extra: 0 }] }],
      }).success,
    ).toBe(false);
  });

  test('refuses a flag the message does not have; HAck takes RFC 5949 U P F', () => {
    expect(MessageSchema.safeParse({ kind: 'handoverInitiate', sequence: 1, code: 0, flags: { S: true, X: true } }).success).toBe(false);
    expect(MessageSchema.safeParse({ kind: 'handoverAck', sequence: 1, code: 0, flags: { U: true, P: true, F: true } }).success).toBe(true);
  });
});
