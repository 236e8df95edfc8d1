import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { alignmentOf, messageRecords, optionByKind, optionRecords, unknownOptionRecord } from '../../../nodes/protocol/index.js';
import type { MessageRecord, MobilityOption, WireRecord } from '../../../nodes/protocol/index.js';
import { messageBody, mobilityOption } from '../../support/protocol-arbitraries.js';
import { roundTrip } from './round-trip.js';

// One hand-written value per option kind (fixed examples), then random ones.
const examples: MobilityOption[] = [
  { kind: 'pad1' },
  { kind: 'padN', data: '' },
  { kind: 'padN', data: '000000' },
  { kind: 'bindingRefreshAdvice', interval: 300 },
  { kind: 'mnId', nai: 'mn1@pmiplab.example' },
  { kind: 'mnId', nai: 'müller@例え.jp' },
  { kind: 'hnp', prefix: '2001:db8:1::', prefixLength: 64 },
  { kind: 'hnp', prefix: '::', prefixLength: 0, reserved: 7 },
  { kind: 'handoffIndicator', value: 1 },
  { kind: 'accessTechnologyType', value: 4 },
  { kind: 'mnLinkLayerId', identifier: '020000000001' },
  { kind: 'mnLinkLayerIdExt', ifp: 10, flags: { P: true }, identifier: '020000000001' },
  { kind: 'linkLocalAddress', address: 'fe80::1' },
  { kind: 'timestamp', seconds: 2 ** 48 - 1, fraction: 0xffff },
  { kind: 'greKey', key: 0xdeadbeef },
  { kind: 'greKey' },
  { kind: 'bindingId', bid: 1, status: 0, flags: { H: false }, bidPri: 0 },
  { kind: 'bindingId', bid: 2, status: 128, flags: { H: true }, bidPri: 5, careOf: '192.0.2.1' },
  { kind: 'bindingId', bid: 3, status: 0, flags: { H: false }, bidPri: 127, careOf: '2001:db8::5' },
  { kind: 'lmaAddress', address: '2001:db8::1' },
  { kind: 'lmaAddress', address: '198.51.100.7' },
  {
    kind: 'flowId',
    fid: 1,
    fidPri: 0x0102,
    pro: 2,
    status: 0,
    subOptions: [
      { kind: 'bidReference', bids: [1, 2] },
      {
        kind: 'trafficSelector',
        srcStart: '2001:db8::1',
        srcEnd: '2001:db8::ff',
        dstStart: '2001:db8:2::',
        dstPortStart: 5001,
        dstPortEnd: 5010,
        nextHeaderStart: 17,
      },
      { kind: 'trafficSelectorRaw', format: 1, data: 'c0000000c0000201' },
      { kind: 'pad1' },
      { kind: 'padN', data: '00' },
      { kind: 'unknown', type: 9, data: 'ab' },
    ],
  },
  { kind: 'multihoming', mhgid: 0, act: 2 },
  { kind: 'primaryHoa', address: '2001:db8:1::100' },
  { kind: 'unknown', type: 250, data: 'cafe' },
];

describe('option records', () => {
  test('every option record has at least one example', () => {
    const covered = new Set(examples.map((e) => optionByKind(e.kind)));
    for (const r of [...optionRecords, unknownOptionRecord]) expect(covered.has(r), r.name).toBe(true);
  });

  test.each(examples.map((e) => [e.kind, e] as const))('roundTrip %s', (_k, v) => {
    roundTrip(optionByKind(v.kind)! as WireRecord<MobilityOption>, v);
  });

  test('random options round-trip through their record', () => {
    fc.assert(
      fc.property(mobilityOption, (v) => {
        roundTrip(optionByKind(v.kind)! as WireRecord<MobilityOption>, v);
      }),
      { numRuns: 1500 },
    );
  });

  test('alignments are as the reference table says', () => {
    const a = (k: MobilityOption['kind']) => optionByKind(k)!.align;
    expect(a('hnp')).toEqual({ x: 8, y: 4 });
    expect(a('linkLocalAddress')).toEqual({ x: 8, y: 6 });
    expect(a('timestamp')).toEqual({ x: 8, y: 2 });
    expect(a('bindingRefreshAdvice')).toEqual({ x: 2, y: 0 });
    expect(a('greKey')).toEqual({ x: 4, y: 0 }); // RFC 5845 3.1
    expect(a('flowId')).toEqual({ x: 2, y: 0 }); // RFC 6089 4.2
    expect(a('lmaAddress')).toBeUndefined(); // RFC 5949 6.2.2 states none
    expect(a('mnId')).toBeUndefined();
    // RFC 5648 6.1: 2n without a care-of address, 8n+2 with one
    const bid = optionByKind('bindingId')!;
    expect(alignmentOf(bid, { kind: 'bindingId', bid: 1, status: 0, flags: { H: false }, bidPri: 1 })).toEqual({ x: 2, y: 0 });
    expect(alignmentOf(bid, { kind: 'bindingId', bid: 1, status: 0, flags: { H: false }, bidPri: 1, careOf: '192.0.2.1' })).toEqual({ x: 8, y: 2 });
    expect(alignmentOf(bid, { kind: 'bindingId', bid: 1, status: 0, flags: { H: false }, bidPri: 1, careOf: '2001:db8::1' })).toEqual({ x: 8, y: 2 });
  });
});

describe('message records (message data between fixed header and options)', () => {
  test('random bodies of every message kind round-trip', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(messageBody, (v) => {
        const r = messageRecords.find((m) => m.kind === (v as { kind: string }).kind)! as unknown as MessageRecord;
        seen.add(r.kind);
        roundTrip(r as unknown as WireRecord<unknown>, v);
      }),
      { numRuns: 1000 },
    );
    expect([...seen].sort()).toEqual(messageRecords.map((r) => r.kind).sort());
  });
});
