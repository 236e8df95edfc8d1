import { describe, expect, it } from 'vitest';
import { flowMetrics, longestGap, percentile, type FlowSeries, type Move } from '../../../orchestrator/report/metrics.js';

const MS = 1e6;
const OPTS = { preMs: 10, gapHorizonMs: 500, timelineHorizonMs: 10_000 };

interface Arrival {
  seq: number;
  tx: number; // ms
  rx: number; // ms
}

/** A flow of `n` probes at 1 ms spacing, 0.5 ms delay; edit() changes arrivals (drop, duplicate, delay). */
function synth(n: number, edit: (a: Arrival[]) => Arrival[] = (a) => a, failed: number[] = []): FlowSeries {
  const sentTx = Float64Array.from({ length: n }, (_, i) => i * MS);
  let arr: Arrival[] = Array.from({ length: n }, (_, i) => ({ seq: i, tx: i, rx: i + 0.5 }));
  arr = edit(arr).sort((a, b) => a.rx - b.rx);
  const f = new Uint8Array(n);
  for (const i of failed) f[i] = 1;
  return {
    flow: 'down',
    from: 'cn1',
    to: 'mn1',
    rate: 1000,
    size: 64,
    files: { sender: 'flows/down.sender.bin', receiver: 'flows/down.receiver.bin' },
    sent: { seq: Uint32Array.from({ length: n }, (_, i) => i), tx: sentTx, failed: f },
    recv: {
      seq: Uint32Array.from(arr, (a) => a.seq),
      tx: Float64Array.from(arr, (a) => a.tx * MS),
      rx: Float64Array.from(arr, (a) => a.rx * MS),
      strays: 3,
    },
  };
}

const move = (index: number, tMs: number, from = 'mag1', to = 'mag2'): Move => ({ index, node: 'mn1', iface: 'wlan0', from, to, t: tMs * MS });

describe('report metrics on synthetic samples', () => {
  // 3000 probes; handover 1 at 1000.3 ms loses probes 1000..1049; handover 2
  // at 1800 ms: probe 2000 arrives three times, probe 2100 arrives 2.2 ms late
  // (after 2101 and 2102)
  const flow = synth(3000, (a) => {
    const out = a.filter((x) => x.seq < 1000 || x.seq >= 1050);
    out.push({ seq: 2000, tx: 2000, rx: 2000.6 }, { seq: 2000, tx: 2000, rx: 2000.7 });
    const late = out.find((x) => x.seq === 2100)!;
    late.rx = 2102.2;
    return out;
  });
  const m = flowMetrics(flow, [move(1, 1000.3), move(2, 1800, 'mag2', 'mag1')], OPTS);

  it('gap, loss and windows of a lossy handover come out exactly', () => {
    const h = m.handovers[0]!;
    expect(h).toMatchObject({ index: 1, from: 'mag1', to: 'mag2', recovered: true });
    // the sender kept sending through it: the network lost them
    expect(h.senderPauseMs).toBe(1);
    // last arrival before: probe 999 at 999.5 ms; first after: probe 1050 at 1050.5 ms
    expect(h.gapMs).toBe(51);
    expect(h.gapStartMs).toBe(-0.8);
    expect(h.gapEndMs).toBe(50.2);
    // window [990.3, 1790): probes 991..1789
    expect(h.sent).toBe(799);
    expect(h.lost).toBe(50);
    expect(h.received).toBe(749);
    expect(h.duplicated).toBe(0);
    expect(h.reordered).toBe(0);
    expect(h.delayMs).toEqual({ p50: 0.5, p99: 0.5 });
  });

  it('duplicates and reordering are counted in the window of their send time', () => {
    const h = m.handovers[1]!;
    expect(h.sent).toBe(1210); // 1790..2999
    expect(h.lost).toBe(0);
    expect(h.duplicated).toBe(2);
    expect(h.reordered).toBe(1);
    // the late probe leaves 2099.5 -> 2101.5 without arrivals
    expect(h.gapMs).toBe(2);
    expect(h.delayMs).toEqual({ p50: 0.5, p99: 0.5 });
  });

  it('totals and baseline', () => {
    expect(m.totals).toMatchObject({ sent: 3000, received: 2950, lost: 50, sendFailed: 0, duplicated: 2, reordered: 1, strays: 3, maxGapMs: 51 });
    expect(m.totals.delayMs).toEqual({ min: 0.5, p50: 0.5, p99: 0.5, max: 2.2 });
    expect(m.totals.durationS).toBe(2.999);
    expect(m.totals.ratePps).toBe(1000);
    expect(m.baseline).toEqual({ sent: 991, lost: 0, maxGapMs: 1, delayMs: { p50: 0.5, p99: 0.5 } });
  });

  it('sends refused by the sender count as lost and as sendFailed', () => {
    const failed = Array.from({ length: 20 }, (_, i) => 1000 + i);
    const f = synth(2000, (a) => a.filter((x) => x.seq < 1000 || x.seq >= 1020), failed);
    const r = flowMetrics(f, [move(1, 1000)], OPTS);
    expect(r.handovers[0]).toMatchObject({ lost: 20, sendFailed: 20, gapMs: 21 });
    expect(r.totals.sendFailed).toBe(20);
  });

  it('a flow that never recovers shows the gap up to the end of sending', () => {
    const f = synth(3000, (a) => a.filter((x) => x.seq < 2500));
    const r = flowMetrics(f, [move(1, 2500)], OPTS);
    // last arrival 2499.5; sending ended at 2999 (+0.5 median delay)
    expect(r.handovers[0]).toMatchObject({ gapMs: 500, recovered: false, gapEndMs: null, lost: 500 });
  });

  it('the gap search stops at the next window: an outage after it belongs to the next handover', () => {
    const f = synth(3000, (a) => a.filter((x) => x.seq < 2000 || x.seq >= 2100));
    const r = flowMetrics(f, [move(1, 1000), move(2, 2000)], OPTS);
    expect(r.handovers[0]!.gapMs).toBe(1);
    expect(r.handovers[1]).toMatchObject({ gapMs: 101, lost: 100 });
    expect(r.handovers[0]!.lost).toBe(0);
  });

  it('an arrival with a sequence number never sent is a stray, not a table of 2^32 entries', () => {
    const f = synth(1000, (a) => [...a, { seq: 4_000_000_000, tx: 500, rx: 500.7 }]);
    const r = flowMetrics(f, [move(1, 500)]);
    expect(r.totals).toMatchObject({ received: 1000, lost: 0, duplicated: 0, reordered: 0, strays: 3 + 1 });
  });

  it('a sender pause shows as senderPauseMs; one beyond the gap horizon is not the handover\'s gap', () => {
    // the sender sends nothing from 1200 to 1230 ms (a busy host), then goes on 30 ms late
    const late = (a: Arrival[]) => a.map((x) => (x.seq >= 1200 ? { ...x, tx: x.tx + 30, rx: x.rx + 30 } : x));
    const f = synth(3000, late);
    f.sent!.tx = Float64Array.from(f.sent!.tx, (t, i) => (i >= 1200 ? t + 30 * MS : t));
    const near = flowMetrics(f, [move(1, 1190)], OPTS);
    expect(near.handovers[0]).toMatchObject({ gapMs: 31, senderPauseMs: 30.5, lost: 0 });
    // a handover 700 ms before the pause, with 5 probes lost: its gap is its own 6 ms
    const g = synth(3000, (a) => late(a).filter((x) => x.seq < 500 || x.seq >= 505));
    g.sent!.tx = f.sent!.tx;
    const far = flowMetrics(g, [move(1, 500)], OPTS);
    expect(far.handovers[0]).toMatchObject({ gapMs: 6, senderPauseMs: 1, lost: 5 });
    expect(far.totals.maxGapMs).toBe(31);
  });

  it('without the sender file losses are unknown (null), not zero', () => {
    const f = { ...synth(1000), sent: null };
    const r = flowMetrics(f, [move(1, 500)]);
    expect(r.totals.lost).toBeNull();
    expect(r.handovers[0]!.lost).toBeNull();
    expect(r.totals.received).toBe(1000);
  });
});

describe('gap and percentile helpers', () => {
  it('longestGap includes the interval that straddles the window start and respects the bounds', () => {
    const rx = Float64Array.from([0, 1, 2, 10, 11, 30]);
    expect(longestGap(rx, 5, 9, 0, 30)).toEqual({ start: 2, end: 10, open: null });
    // (11, 30) starts inside [10.5, 12]: it counts whole
    expect(longestGap(rx, 10.5, 12, 0, 30)).toEqual({ start: 11, end: 30, open: null });
    expect(longestGap(Float64Array.from([0, 1, 2]), 3, 5, 0, 10)).toEqual({ start: 2, end: 10, open: 'end' });
    expect(longestGap(new Float64Array(0), 1, 2, 0, 5)).toEqual({ start: 0, end: 5, open: 'start' });
  });

  it('percentile is nearest-rank', () => {
    const s = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(s, 50)).toBe(50);
    expect(percentile(s, 99)).toBe(99);
    expect(percentile(s, 100)).toBe(100);
    expect(percentile(Float64Array.from([7]), 99)).toBe(7);
  });
});
