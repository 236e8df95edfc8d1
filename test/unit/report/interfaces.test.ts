import { describe, expect, it } from 'vitest';
import { binnedRates, clockOffset, flowsOnInterfaces, probesInCapture } from '../../../orchestrator/report/interfaces.js';
import { probePcap, type ProbeFrame } from './probe-frames.js';

const WALL = 1_764_680_000_000_000_000n; // a wall clock in 2025, ns
const MONO = 5_000_000_000_000n;
const OFFSET = WALL - MONO;
const ms = (x: number) => BigInt(Math.round(x * 1e6));

/** probes of `flow` at 1 per ms from `fromMs`, seen `delayUs` after sending */
const probes = (flow: string, seqs: number[], delayUs = 50, extra: Partial<ProbeFrame> = {}): ProbeFrame[] =>
  seqs.map((seq) => ({ flow, seq, txNs: MONO + ms(seq), wallNs: OFFSET + MONO + ms(seq) + BigInt(delayUs * 1000), ...extra }));

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe('probesInCapture', () => {
  it('finds the probes of the named flows, by tag and port, and nothing else', () => {
    const other = { timestampNs: WALL, data: new Uint8Array(60) }; // not IPv6 (ethertype 0)
    const bytes = probePcap([...probes('down', [0, 1, 2]), ...probes('up', [5], 50, { dport: 40001 }), ...probes('down', [7], 50, { dport: 40009 })], [other]);
    const r = probesInCapture(bytes, [
      { flow: 'down', port: 40000 },
      { flow: 'up', port: 40001 },
    ]);
    expect(r.error).toBeNull();
    // the 'down' probe to another port is someone else's
    expect(r.probes.map((p) => [p.flow, p.seq])).toEqual([['down', 0], ['down', 1], ['down', 2], ['up', 5]]);
    expect(r.probes[1]!.txNs).toBe(MONO + ms(1));
    expect(probesInCapture(bytes, [{ flow: 'elsewhere', port: null }]).probes).toEqual([]);
  });

  it('says when the bytes are no capture', () => {
    expect(probesInCapture(new Uint8Array([1, 2, 3, 4, 5]), []).error).toMatch(/magic/);
  });
});

describe('flowsOnInterfaces', () => {
  it('splits a flow moved between two interfaces into two series, on the run clock', () => {
    // down: 0-99 on wlan0, 100-199 on lte0 (moved); up sent from wlan0 throughout
    const caps = [
      { node: 'mn1', iface: 'wlan0', probes: probesInCapture(probePcap([...probes('down', range(0, 100)), ...probes('up', range(0, 200), 30, { dport: 40001 })]), [{ flow: 'down', port: 40000 }, { flow: 'up', port: 40001 }]).probes },
      { node: 'mn1', iface: 'lte0', probes: probesInCapture(probePcap(probes('down', [...range(100, 200), 150])), [{ flow: 'down', port: 40000 }]).probes },
    ];
    // the smallest delay seen (30 µs, the uplink's) fixes the clock offset
    expect(clockOffset(caps)).toBe(OFFSET + 30_000n);
    const base = MONO - ms(1000); // the run started 1 s before the first probe
    const rows = flowsOnInterfaces(caps, [{ flow: 'down', from: 'cn1', to: 'mn1' }, { flow: 'up', from: 'mn1', to: 'cn1' }], base);
    expect(rows.map((r) => [r.flow, r.iface, r.direction, r.probes, r.copies])).toEqual([
      ['down', 'lte0', 'in', 100, 101],
      ['down', 'wlan0', 'in', 100, 100],
      ['up', 'wlan0', 'out', 200, 200],
    ]);
    const wlan = rows[1]!;
    // first arrival: 1 s + 50 µs after the start, less the 30 µs offset error
    expect(wlan.first).toBe(1e9 + 20_000);
    expect(wlan.last).toBe(1e9 + 99e6 + 20_000);
    expect(rows[0]!.first).toBe(1e9 + 100e6 + 20_000);

    const bins = binnedRates(rows, 1e9, 1.2e9, 2);
    const rate = (flow: string, iface: string) => bins.filter((b) => b.flow === flow && b.iface === `mn1:${iface} (${flow === 'up' ? 'out' : 'in'})`).map((b) => b.pps);
    expect(rate('down', 'wlan0')).toEqual([1000, 0]);
    expect(rate('down', 'lte0')).toEqual([0, 1010]);
    expect(rate('up', 'wlan0')).toEqual([1000, 1000]);
  });

  it('leaves out flows of other nodes and runs without probes', () => {
    const caps = [{ node: 'mn2', iface: 'wlan0', probes: probesInCapture(probePcap(probes('down', [0, 1])), [{ flow: 'down', port: null }]).probes }];
    expect(flowsOnInterfaces(caps, [{ flow: 'down', from: 'cn1', to: 'mn1' }], 0n)).toEqual([]);
    expect(flowsOnInterfaces([{ node: 'mn1', iface: 'wlan0', probes: [] }], [], 0n)).toEqual([]);
  });
});

describe('movesOfFlow', () => {
  it('charges a flow with the moves of the interfaces that carried it only', async () => {
    const { movesOfFlow } = await import('../../../orchestrator/report/build.js');
    const moves = [
      { index: 1, node: 'mn1', iface: 'lte0', from: 'mag2', to: 'mag1', t: 4e9 },
      { index: 2, node: 'mn1', iface: 'wlan0', from: 'mag1', to: 'mag2', t: 6e9 },
      { index: 3, node: 'mn2', iface: 'wlan0', from: 'mag1', to: 'mag2', t: 7e9 },
    ];
    const on = (flow: string, iface: string) => ({ flow, node: 'mn1', iface, direction: 'in' as const, probes: 1, copies: 1, first: 0, last: 0, times: new Float64Array(), seqs: new Uint32Array() });
    const f = { flow: 'down', from: 'cn1', to: 'mn1' };
    expect(movesOfFlow(f, moves, [on('down', 'wlan0')]).map((m) => m.index)).toEqual([2]);
    expect(movesOfFlow(f, moves, [on('down', 'wlan0'), on('down', 'lte0')]).map((m) => m.index)).toEqual([1, 2]);
    // no capture: every move of its MN
    expect(movesOfFlow(f, moves, [on('other', 'lte0')]).map((m) => m.index)).toEqual([1, 2]);
    expect(movesOfFlow({ flow: 'x', from: null, to: null }, moves, []).map((m) => m.index)).toEqual([1, 2, 3]);
  });
});
