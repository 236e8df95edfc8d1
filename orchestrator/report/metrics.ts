import type { DelayStats, FlowHandover, FlowMetrics } from './schema.js';

// Per-flow, per-handover metrics from the samples of both ends. Pure: times
// are ns relative to the run's start, as doubles (exact below 2^53 ns, i.e.
// for runs of weeks). Definitions (docs/metrics.md):
// - window k of handover k: probes whose send time is in [t_k - pre, t_{k+1} - pre)
//   (the last one open-ended); probes sent before the first window form the
//   baseline. lost, duplicated, reordered and delay are counted per window by
//   the probe's send time.
// - gap of handover k: the longest interval without arrivals among the
//   intervals between consecutive arrivals that overlap [t_k, e_k], where
//   e_k = min(t_{k+1} - pre, t_k + gapHorizon): an outage that begins within
//   gapHorizon of the event counts whole, a pause that begins later is not
//   the handover's (a busy host pauses senders for tens of ms at times; see
//   senderPauseMs, which says how much of the gap the sender sent nothing).
//   The flow's first send and its
//   last send (plus the median delay) bound the first and last interval, so
//   a flow that never recovers shows the gap up to the end of sending.
// - reordered: a probe (first copy) arriving after one with a higher
//   sequence number had arrived; duplicated: every copy after the first.

export interface SentSeries {
  seq: Uint32Array;
  tx: Float64Array; // ns since run start
  failed: Uint8Array; // 1: the send call failed
  maxLagMs?: number;
}
export interface RecvSeries {
  seq: Uint32Array;
  tx: Float64Array;
  rx: Float64Array; // ns since run start, arrival order
  strays: number;
  stop?: number; // ns, when the receiver stopped
  start?: number;
}
export interface FlowSeries {
  flow: string;
  from: string | null;
  to: string | null;
  rate: number | null;
  size: number | null;
  files: { sender: string | null; receiver: string | null };
  sent: SentSeries | null;
  recv: RecvSeries | null;
}
export interface Move {
  index: number;
  node: string;
  iface: string;
  from: string;
  to: string;
  t: number; // ns since run start
  /** move (l2-move, default), detach (l2-down: to is 'none'), attach (l2-up: from is 'none') */
  kind?: 'move' | 'detach' | 'attach';
}
export interface MetricOptions {
  preMs: number;
  /** the gap must begin within this long after the L2 event */
  gapHorizonMs: number;
  /** signaling steps are looked for up to the next handover or this long after the L2 event */
  timelineHorizonMs: number;
}
export const DEFAULT_METRIC_OPTIONS: MetricOptions = { preMs: 10, gapHorizonMs: 500, timelineHorizonMs: 10_000 };

/** sequence numbers the report tracks per flow at most (an hour at 10,000 pps is 36 M) */
const MAX_SEQ_TABLE = 1 << 28;

export const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** Index of the first element > x in sorted a. */
export function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element >= x in sorted a. */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Gap {
  start: number;
  end: number;
  /** 'end': the interval runs to the end of sending (no arrival closed it) */
  open: 'start' | 'end' | null;
}

/**
 * Longest interval between consecutive points of [obsStart, ...rx, obsEnd]
 * that overlaps [lo, hi]. rx must be sorted.
 */
export function longestGap(rx: Float64Array, lo: number, hi: number, obsStart: number, obsEnd: number): Gap | null {
  if (!(obsEnd > obsStart) || hi < lo) return null;
  const n = rx.length;
  const at = (j: number) => (j < 0 ? obsStart : j >= n ? obsEnd : Math.min(Math.max(rx[j] as number, obsStart), obsEnd));
  // intervals (p_j, p_{j+1}) with p_{j+1} > lo and p_j < hi
  let j = upperBound(rx, lo) - 1; // last arrival <= lo (or -1: the virtual start)
  const last = lowerBound(rx, hi); // first arrival >= hi (or n: the virtual end)
  let best: Gap | null = null;
  for (; j < last && j < n; j++) {
    const a = at(j);
    const b = at(j + 1);
    if (b <= lo && j + 1 < n) continue;
    if (!best || b - a > best.end - best.start) best = { start: a, end: b, open: j < 0 ? 'start' : j + 1 >= n ? 'end' : null };
  }
  return best;
}

/** Longest stretch of [lo, hi] in which the sender sent nothing (tx sorted). */
export function longestPause(tx: Float64Array, lo: number, hi: number): number {
  let best = 0;
  let prev = lo;
  for (let i = upperBound(tx, lo); i < tx.length && (tx[i] as number) < hi; i++) {
    best = Math.max(best, (tx[i] as number) - prev);
    prev = tx[i] as number;
  }
  return Math.max(best, hi - prev);
}

interface WindowAcc {
  sent: number;
  lost: number;
  failed: number;
  dup: number;
  reord: number;
  received: number;
  delays: number[];
}
const acc = (): WindowAcc => ({ sent: 0, lost: 0, failed: 0, dup: 0, reord: 0, received: 0, delays: [] });

function sortedCopy(a: Float64Array): Float64Array {
  for (let i = 1; i < a.length; i++) if ((a[i] as number) < (a[i - 1] as number)) return Float64Array.from(a).sort();
  return a;
}

function delayOf(values: number[]): { p50: number; p99: number } | null {
  if (!values.length) return null;
  const s = Float64Array.from(values).sort();
  return { p50: ms(percentile(s, 50)), p99: ms(percentile(s, 99)) };
}

/** Everything metrics.json says about one flow. `moves` are the handovers that concern it, in time order. */
export function flowMetrics(f: FlowSeries, moves: Move[], opts: MetricOptions = DEFAULT_METRIC_OPTIONS): FlowMetrics {
  const pre = opts.preMs * 1e6;
  const bounds = moves.map((m) => m.t - pre);
  // window of a send time: -1 baseline, k for moves[k]
  const boundsArr = Float64Array.from(bounds);
  const win = (t: number) => upperBound(boundsArr, t) - 1;
  const W = moves.length;
  const w = Array.from({ length: W + 1 }, acc); // index k+1; 0 = baseline
  const allDelays: number[] = [];
  let dupTotal = 0;
  let reordTotal = 0;
  let received = 0;

  // arrivals: first copies, duplicates, reordering
  const recv = f.recv;
  let maxSeq = -1;
  let unexpected = 0; // arrivals carrying a sequence number that was never sent (corrupt or forged)
  if (recv) {
    // probes carry up to 2^32 sequence numbers: bound the table by what was sent
    let top = 0;
    if (f.sent) for (let i = 0; i < f.sent.seq.length; i++) top = Math.max(top, f.sent.seq[i] as number);
    else for (let i = 0; i < recv.seq.length; i++) top = Math.max(top, recv.seq[i] as number);
    top = Math.min(top, MAX_SEQ_TABLE);
    const seen = new Uint8Array(top + 1);
    for (let i = 0; i < recv.seq.length; i++) {
      const q = recv.seq[i] as number;
      if (q > top) {
        unexpected++;
        continue;
      }
      const tx = recv.tx[i] as number;
      const k = win(tx) + 1;
      const a = w[k] as WindowAcc;
      if (seen[q]) {
        a.dup++;
        dupTotal++;
        continue;
      }
      seen[q] = 1;
      received++;
      a.received++;
      const d = (recv.rx[i] as number) - tx;
      a.delays.push(d);
      allDelays.push(d);
      if (q < maxSeq) {
        a.reord++;
        reordTotal++;
      } else maxSeq = q;
    }
    // losses need the sender's record of what it sent
    if (f.sent) {
      for (let i = 0; i < f.sent.seq.length; i++) {
        const a = w[win(f.sent.tx[i] as number) + 1] as WindowAcc;
        a.sent++;
        if (!seen[f.sent.seq[i] as number]) {
          a.lost++;
          if (f.sent.failed[i]) a.failed++;
        }
      }
    }
  } else if (f.sent) {
    for (let i = 0; i < f.sent.seq.length; i++) {
      const a = w[win(f.sent.tx[i] as number) + 1] as WindowAcc;
      a.sent++;
      a.lost++;
      if (f.sent.failed[i]) a.failed++;
    }
  }

  // the observation span: first send to last send (+ median delay), else the receiver's own span
  const sortedDelays = Float64Array.from(allDelays).sort();
  const medDelay = sortedDelays.length ? percentile(sortedDelays, 50) : 0;
  const rx = recv ? sortedCopy(recv.rx) : new Float64Array(0);
  let obsStart: number;
  let obsEnd: number;
  if (f.sent && f.sent.tx.length) {
    obsStart = f.sent.tx[0] as number;
    obsEnd = (f.sent.tx[f.sent.tx.length - 1] as number) + medDelay;
  } else {
    obsStart = recv?.start ?? (rx[0] ?? 0);
    obsEnd = recv?.stop ?? (rx[rx.length - 1] ?? 0);
  }

  const horizon = opts.gapHorizonMs * 1e6;
  const sentTx = f.sent ? sortedCopy(f.sent.tx) : null;
  const handovers: FlowHandover[] = moves.map((m, k) => {
    const a = w[k + 1] as WindowAcc;
    const next = k + 1 < W ? (bounds[k + 1] as number) : Infinity;
    const hi = Math.min(next, m.t + horizon, obsEnd);
    const g = m.t < obsEnd ? longestGap(rx, m.t, Math.max(hi, m.t), obsStart, obsEnd) : null;
    return {
      index: m.index,
      from: m.from,
      to: m.to,
      gapMs: g ? ms(g.end - g.start) : null,
      gapStartMs: g ? ms(g.start - m.t) : null,
      gapEndMs: g && g.open !== 'end' ? ms(g.end - m.t) : null,
      recovered: g ? g.open !== 'end' : false,
      senderPauseMs: g && sentTx ? ms(longestPause(sentTx, g.start, g.end)) : null,
      sent: a.sent,
      received: a.received,
      lost: f.sent ? a.lost : null,
      sendFailed: a.failed,
      duplicated: a.dup,
      reordered: a.reord,
      delayMs: delayOf(a.delays),
    };
  });

  const whole = longestGap(rx, obsStart, obsEnd, obsStart, obsEnd);
  const base = w[0] as WindowAcc;
  const baseEnd = W ? Math.min(bounds[0] as number, obsEnd) : obsEnd;
  const baseGap = baseEnd > obsStart ? longestGap(rx, obsStart, baseEnd, obsStart, obsEnd) : null;
  const sentN = f.sent ? f.sent.seq.length : 0;
  const lostTotal = w.reduce((s, a) => s + a.lost, 0);
  const failedTotal = w.reduce((s, a) => s + a.failed, 0);
  const durationNs = f.sent && f.sent.tx.length > 1 ? (f.sent.tx[f.sent.tx.length - 1] as number) - (f.sent.tx[0] as number) : 0;
  const delay: DelayStats | null = sortedDelays.length
    ? {
        min: ms(sortedDelays[0] as number),
        p50: ms(percentile(sortedDelays, 50)),
        p99: ms(percentile(sortedDelays, 99)),
        max: ms(sortedDelays[sortedDelays.length - 1] as number),
      }
    : null;

  return {
    flow: f.flow,
    from: f.from,
    to: f.to,
    rate: f.rate,
    size: f.size,
    files: f.files,
    totals: {
      sent: sentN,
      received,
      lost: f.sent ? lostTotal : null,
      sendFailed: failedTotal,
      duplicated: dupTotal,
      reordered: reordTotal,
      strays: (recv?.strays ?? 0) + unexpected,
      delayMs: delay,
      maxGapMs: whole ? ms(whole.end - whole.start) : null,
      durationS: Math.round(durationNs / 1e6) / 1e3,
      ratePps: durationNs > 0 ? Math.round(((sentN - 1) / durationNs) * 1e9 * 10) / 10 : 0,
      senderMaxLagMs: f.sent?.maxLagMs ?? null,
    },
    baseline: {
      sent: base.sent,
      lost: f.sent ? base.lost : null,
      maxGapMs: baseGap ? ms(baseGap.end - baseGap.start) : null,
      delayMs: delayOf(base.delays),
    },
    handovers,
    interfaces: [], // filled from the captures (build.ts)
  };
}
