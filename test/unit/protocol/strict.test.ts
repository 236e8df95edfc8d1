// Each class of malformed input yields a typed error naming field and offset.

import { describe, expect, test } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../nodes/protocol/index.js';
import type { DecodeError, Message, MobilityOption } from '../../../nodes/protocol/index.js';

const pbu = (options: MobilityOption[]): Message => ({
  kind: 'pbu',
  sequence: 1,
  flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true },
  lifetime: 10,
  options,
});

function err(b: Uint8Array): DecodeError {
  const d = decodeMessage(b);
  if (d.ok) throw new Error('expected an error');
  return d.error;
}

function expectErr(b: Uint8Array, code: DecodeError['code'], field: string, offset: number): void {
  expect(err(b)).toMatchObject({ code, field, offset });
}

/** A PBU whose options start at 12, with raw option octets placed there and padding to 8. */
function pbuWithRaw(raw: number[]): Uint8Array {
  const total = Math.ceil((12 + raw.length) / 8) * 8;
  const b = new Uint8Array(total);
  b.set(encodeMessage(pbu([])).subarray(0, 12));
  b[1] = total / 8 - 1;
  b.set(raw, 12);
  const pad = total - 12 - raw.length;
  if (pad === 1) b[12 + raw.length] = 0;
  else if (pad >= 2) b[12 + raw.length + 1] = pad - 2, (b[12 + raw.length] = 1);
  return b;
}

describe('strict decode', () => {
  test('truncated buffer', () => {
    expectErr(new Uint8Array(0), 'truncated', 'MobilityHeader', 0);
    expectErr(new Uint8Array([59, 0, 5, 0]), 'truncated', 'MobilityHeader', 4);
  });

  test('HdrLen says more than the buffer', () => {
    const b = encodeMessage(pbu([{ kind: 'handoffIndicator', value: 1 }]));
    b[1] = b[1]! + 1;
    expectErr(b, 'truncated', 'MobilityHeader.hdrLen', 1);
  });

  test('HdrLen says less than the buffer', () => {
    const b = new Uint8Array(24);
    b.set(encodeMessage(pbu([])));
    expectErr(b, 'bad-length', 'MobilityHeader.hdrLen', 1);
  });

  test('MH not a multiple of 8', () => {
    const b = new Uint8Array(19);
    b.set(encodeMessage(pbu([])));
    expectErr(b, 'bad-length', 'MobilityHeader.length', 19);
  });

  test('message data cut off by a short HdrLen', () => {
    const b = encodeMessage(pbu([])).subarray(0, 8);
    b[1] = 0;
    expectErr(b, 'truncated', 'PBU', 6);
  });

  test('unknown MH type -> unknown-type (answer with Binding Error status 2)', () => {
    const b = encodeMessage(pbu([]));
    b[2] = 99;
    expectErr(b, 'unknown-type', 'MobilityHeader.type', 2);
  });

  test('option running past the end', () => {
    // HNP at 12 would be misaligned anyway; use Handoff Indicator claiming 200 octets
    expectErr(pbuWithRaw([23, 200, 0, 1]), 'bad-length', 'HandoffIndicator.length', 13);
    expectErr(pbuWithRaw([8, 30, 1, 0x61, 0x62]), 'truncated', 'MnIdentifier', 14);
    expectErr(pbuWithRaw([250, 9, 1, 2]), 'truncated', 'UnknownOption', 14);
  });

  test('option header cut off at the very end', () => {
    const b = pbuWithRaw([1, 2, 0, 0]); // 12 + PadN(4) = 16
    b[15] = 23; // last octet starts an option with no Length octet
    b[13] = 1;
    expectErr(b, 'truncated', 'HandoffIndicator.length', 16);
  });

  test('wrong fixed option length', () => {
    expectErr(pbuWithRaw([24, 3, 0, 4, 0]), 'bad-length', 'AccessTechnologyType.length', 13);
    expectErr(pbuWithRaw([33, 4, 0, 0, 0, 0]), 'bad-length', 'GreKey.length', 13);
    expectErr(pbuWithRaw([35, 5, 0, 1, 0, 0, 0]), 'bad-length', 'BindingIdentifier.length', 13);
  });

  test('bad prefix length', () => {
    const b = encodeMessage(pbu([{ kind: 'hnp', prefix: '2001:db8::', prefixLength: 64 }]));
    const at = b.indexOf(22, 12);
    b[at + 3] = 129;
    expectErr(b, 'bad-value', 'HomeNetworkPrefix.prefixLength', at + 3);
  });

  test('bad NAI subtype and non-UTF-8 NAI', () => {
    expectErr(pbuWithRaw([8, 3, 2, 0x61, 0x62]), 'bad-value', 'MnIdentifier.subtype', 14);
    expectErr(pbuWithRaw([8, 3, 1, 0xff, 0x62]), 'bad-value', 'MnIdentifier.identifier', 15);
    expectErr(pbuWithRaw([8, 1, 1]), 'bad-length', 'MnIdentifier.length', 13);
  });

  test('misaligned option', () => {
    // Timestamp (8n+2) placed at 12
    expectErr(pbuWithRaw([27, 8, 0, 0, 0, 0, 0, 1, 0, 0]), 'bad-value', 'Timestamp.alignment', 12);
  });

  test('LMA address code that disagrees with the length', () => {
    expectErr(pbuWithRaw([41, 6, 1, 0, 192, 0, 2, 1]), 'bad-value', 'LmaAddress.code', 14);
  });

  describe('bad traffic selector', () => {
    // FID option at 12: type 45, len, fid 0001, fid-pri 0000, rsvd|pro 00, status 00, then TS sub-option
    const fid = (ts: number[]) => pbuWithRaw([45, 6 + ts.length, 0, 1, 0, 0, 0, 0, ...ts]);
    const a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const z = new Array(16).fill(0);

    test('length disagrees with its flags', () => {
      // flags A (src start) but only 8 octets of address
      expectErr(fid([3, 12, 2, 0, 0x80, 0, 0, 0, ...a.slice(0, 8)]), 'bad-length', 'TrafficSelector.length', 22);
    });
    test('end bound without start', () => {
      expectErr(fid([3, 22, 2, 0, 0x40, 0, 0, 0, ...a]), 'bad-value', 'TrafficSelector.srcEnd', 24);
    });
    test('range end below start', () => {
      expectErr(fid([3, 38, 2, 0, 0xc0, 0, 0, 0, ...a, ...z]), 'bad-value', 'TrafficSelector.srcEnd', 44);
      expectErr(fid([3, 8, 2, 0, 0x00, 0x03, 0, 0, 17, 6]), 'bad-value', 'TrafficSelector.nextHeaderEnd', 29);
    });
    test('reserved format 0', () => {
      expectErr(fid([3, 2, 0, 0]), 'bad-value', 'TrafficSelector.format', 22);
    });
    test('sub-option running past the option', () => {
      expectErr(fid([2, 9, 0, 1]), 'bad-length', 'FlowIdentification.subOption.length', 21);
    });
  });

  test('unknown options are skipped into {kind: unknown} and kept byte for byte', () => {
    const b = pbuWithRaw([200, 3, 0xaa, 0xbb, 0xcc]);
    const d = decodeMessage(b);
    expect(d.ok && d.value.options[0]).toEqual({ kind: 'unknown', type: 200, data: 'aabbcc' });
    if (d.ok) expect(encodeMessage(d.value)).toEqual(b);
  });

  test('an NAI starting with U+FEFF keeps its EF BB BF octets both ways', () => {
    // TextDecoder strips a leading BOM unless told not to: decode gave 'a' and re-encode threw
    const b = pbuWithRaw([8, 5, 1, 0xef, 0xbb, 0xbf, 0x61]);
    const d = decodeMessage(b);
    expect(d.ok && d.value.options[0]).toEqual({ kind: 'mnId', nai: '\ufeffa' });
    if (d.ok) expect(encodeMessage(d.value)).toEqual(b);
    const only = decodeMessage(pbuWithRaw([8, 4, 1, 0xef, 0xbb, 0xbf]));
    expect(only.ok && only.value.options[0]).toEqual({ kind: 'mnId', nai: '\ufeff' });
  });

  test('non-Uint8Array input is an error, not an exception', () => {
    expect(decodeMessage('nope' as unknown as Uint8Array).ok).toBe(false);
  });

  test('encode throws clear errors on programmer mistakes', () => {
    expect(() => encodeMessage({ ...pbu([]), sequence: 70000 } as Message)).toThrow(/PBU.sequence/);
    expect(() => encodeMessage(pbu([{ kind: 'hnp', prefix: 'nope', prefixLength: 64 }]))).toThrow(/HomeNetworkPrefix.prefix/);
    expect(() => encodeMessage(pbu([{ kind: 'unknown', type: 22, data: '' }]))).toThrow(/has a record/);
    expect(() => encodeMessage(pbu([{ kind: 'pad1' }]))).toThrow(/multiple of 8/);
    expect(() =>
      encodeMessage(pbu([{ kind: 'mnLinkLayerIdExt', ifp: 0, flags: { P: false }, identifier: '01' }])),
    ).toThrow(/plain form/);
    // decode refuses an empty range, so encode must not write one
    const ts = (sel: Record<string, unknown>) => pbu([{ kind: 'flowId', fid: 1, fidPri: 0, pro: 0, status: 0, subOptions: [{ kind: 'trafficSelector', ...sel }] }]);
    expect(() => encodeMessage(ts({ dstPortStart: 10, dstPortEnd: 5 }))).toThrow(/TrafficSelector.dstPortEnd: range end below its start dstPortStart/);
    expect(() => encodeMessage(ts({ srcStart: '2001:db8::2', srcEnd: '2001:db8::1' }))).toThrow(/TrafficSelector.srcEnd/);
    expect(decodeMessage(encodeMessage(ts({ dstPortStart: 5, dstPortEnd: 5 }))).ok).toBe(true);
    // over 2048 octets: the length message, not the slab's 'Invalid typed array length'
    const big = pbu(Array.from({ length: 300 }, () => ({ kind: 'unknown' as const, type: 200, data: '00'.repeat(255) })));
    expect(() => encodeMessage(big)).toThrow(/MobilityHeader: length \d+ is not a multiple of 8 in 8..2048/);
  });
});
