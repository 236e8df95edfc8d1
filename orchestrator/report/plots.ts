import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { binnedRates, type FlowOnInterface } from './interfaces.js';
import { upperBound, type FlowSeries, type Move } from './metrics.js';
import type { Metrics } from './schema.js';

// The report's plots as vega-lite specs, rendered to SVG in Node (no browser,
// no canvas: vega's headless view). Data are thinned to what a page can
// carry: the overview keeps one point per flow per time bin; the per-handover
// zoom keeps every probe of its window.

const OVERVIEW_BINS = 1000;
const MAX_LOST_MARKS = 1000;
const MAX_ZOOM_HANDOVERS = 30;
const MAX_ZOOM_POINTS = 15_000; // all facets together; thinned evenly beyond
const STEP_LABELS: Array<[keyof Metrics['handovers'][number]['timeline'], string]> = [
  ['l2Down', 'L2 down'],
  ['l2Up', 'L2 up'],
  ['mnDetach', 'detach seen (old MAG)'],
  ['mnAttach', 'attach seen (new MAG)'],
  ['rs', 'RS received'],
  ['pbuSent', 'PBU sent'],
  ['pbuReceived', 'PBU at LMA'],
  ['pbaSent', 'PBA sent'],
  ['pbaReceived', 'PBA received'],
  ['routesProgrammed', 'routes set (MAG)'],
  ['raSent', 'RA sent'],
  ['mnAddress', 'MN address usable'],
];

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none', logLevel: vega.Error });
  try {
    // 2 decimals are 1/100 px: plenty, and half the octets of vega's full doubles
    return (await view.toSVG()).replace(/(\d\.\d\d)\d+/g, '$1');
  } finally {
    view.finalize();
  }
}

// aria off: no per-point aria-label (a page of 10,000s of points would double in size)
const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', config: { font: 'sans-serif', view: { stroke: '#ddd' }, aria: false } } as const;

/** Received sequence number over time, one point per time bin, lost probes in red, handovers as rules. */
export function sequenceSpec(f: FlowSeries, moves: Move[]): TopLevelSpec {
  const rows: Array<{ t: number; seq: number; kind: string }> = [];
  const rx = f.recv?.rx ?? new Float64Array(0);
  const seq = f.recv?.seq ?? new Uint32Array(0);
  const span = { lo: Infinity, hi: -Infinity };
  const txs = f.sent?.tx ?? f.recv?.tx ?? new Float64Array(0);
  if (txs.length) {
    span.lo = Math.min(txs[0] as number, rx[0] ?? Infinity);
    span.hi = Math.max(txs[txs.length - 1] as number, rx[rx.length - 1] ?? -Infinity);
  }
  if (rx.length && span.hi > span.lo) {
    const width = (span.hi - span.lo) / OVERVIEW_BINS;
    let bin = -1;
    let top = -1;
    let tAt = 0;
    const flush = () => top >= 0 && rows.push({ t: tAt / 1e9, seq: top, kind: 'received' });
    for (let i = 0; i < rx.length; i++) {
      const b = Math.floor(((rx[i] as number) - span.lo) / width);
      if (b !== bin) {
        flush();
        bin = b;
        top = -1;
      }
      if ((seq[i] as number) > top) {
        top = seq[i] as number;
        tAt = rx[i] as number;
      }
    }
    flush();
  }
  if (f.sent && f.recv) {
    const got = new Uint8Array(maxSent(f) + 1);
    for (const q of f.recv.seq) if (q < got.length) got[q] = 1;
    const lost: number[] = [];
    for (let i = 0; i < f.sent.seq.length; i++) if (!got[f.sent.seq[i] as number]) lost.push(i);
    const stride = Math.max(1, Math.ceil(lost.length / MAX_LOST_MARKS));
    for (let k = 0; k < lost.length; k += stride) {
      const i = lost[k] as number;
      rows.push({ t: (f.sent.tx[i] as number) / 1e9, seq: f.sent.seq[i] as number, kind: 'lost (at send time)' });
    }
  }
  const marks = moves.map((m) => ({ t: m.t / 1e9, label: `#${m.index} → ${m.to}` }));
  return {
    ...base,
    title: { text: `flow ${f.flow}: ${f.from ?? '?'} → ${f.to ?? '?'}`, subtitle: 'received sequence number over time; dashed: handovers (L2 event)' },
    width: 900,
    height: 220,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'point', filled: true, size: 8 },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'time since start (s)' },
          y: { field: 'seq', type: 'quantitative', title: 'sequence number' },
          color: { field: 'kind', type: 'nominal', scale: { domain: ['received', 'lost (at send time)'], range: ['#1f77b4', '#d62728'] }, title: null },
          shape: { field: 'kind', type: 'nominal', scale: { domain: ['received', 'lost (at send time)'], range: ['circle', 'cross'] }, title: null },
          size: { field: 'kind', type: 'ordinal', scale: { domain: ['received', 'lost (at send time)'], range: [8, 40] }, legend: null },
          order: { field: 'kind', type: 'nominal', sort: 'ascending' },
        },
      },
      {
        data: { values: marks },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#888' },
        encoding: { x: { field: 't', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

function maxSent(f: FlowSeries): number {
  let a = 0;
  for (const q of f.sent?.seq ?? []) if (q > a) a = q;
  return a;
}


/** Every probe around each handover: arrivals (and losses) by time after the L2 event, sequence relative to the event. */
export function zoomSpec(series: FlowSeries[], moves: Move[], metrics: Metrics): TopLevelSpec | null {
  const shown = moves.slice(0, MAX_ZOOM_HANDOVERS);
  if (!shown.length) return null;
  const ends = metrics.flows.flatMap((f) => f.handovers.map((h) => (h.gapEndMs ?? h.gapMs ?? 0) as number));
  // wide enough for the typical handover: the median end of the gaps, x1.5, at least 40 ms, at most 500
  const sorted = ends.filter((e) => e > 0).sort((a, b) => a - b);
  const typical = sorted.length ? (sorted[Math.floor(sorted.length / 2)] as number) : 0;
  const after = Math.min(500, Math.max(40, Math.ceil(typical * 1.5 + 10)));
  const before = Math.max(10, Math.round(after / 5));
  const rows: Array<{ ho: string; flow: string; ms: number; rel: number; kind: string }> = [];
  let outside = 0; // probes far from their place in the sequence (held in a queue for seconds): not drawn
  for (const m of shown) {
    const ho = `#${m.index} ${m.from}→${m.to}`;
    for (const f of series) {
      if (f.from !== null && f.to !== null && f.from !== m.node && f.to !== m.node) continue;
      // a flow not charged with this move (it ran over another interface of the MN) has no row in its column
      const fm = metrics.flows.find((x) => x.flow === f.flow);
      if (fm && fm.interfaces.length > 0 && !fm.handovers.some((h) => h.index === m.index)) continue;
      // the probe sent last before the event is 0; the y range is what the rate sends in the x range
      const ref = f.sent ? upperBound(f.sent.tx, m.t) - 1 : 0;
      const perMs = (f.rate ?? 1000) / 1000;
      const yLo = -before * perMs - 5;
      const yHi = after * perMs + 5;
      const lo = m.t - before * 1e6;
      const hi = m.t + after * 1e6;
      const push = (t: number, q: number, kind: string) => {
        const rel = q - ref;
        if (rel < yLo || rel > yHi) outside++;
        else rows.push({ ho, flow: f.flow, ms: (t - m.t) / 1e6, rel, kind });
      };
      if (f.recv) {
        const { rx, seq } = f.recv;
        for (let i = upperBound(rx, lo); i < rx.length && (rx[i] as number) <= hi; i++) push(rx[i] as number, seq[i] as number, 'received');
      }
      if (f.sent && f.recv) {
        const got = new Set<number>();
        const { rx, seq } = f.recv;
        for (let i = upperBound(rx, lo - 1e9); i < rx.length && (rx[i] as number) <= hi + 1e9; i++) got.add(seq[i] as number);
        for (let i = upperBound(f.sent.tx, lo); i < f.sent.tx.length && (f.sent.tx[i] as number) <= hi; i++) {
          if (!got.has(f.sent.seq[i] as number)) push(f.sent.tx[i] as number, f.sent.seq[i] as number, 'lost');
        }
      }
    }
  }
  const stride = Math.ceil(rows.length / MAX_ZOOM_POINTS);
  const values = stride > 1 ? rows.filter((r, i) => r.kind === 'lost' || i % stride === 0) : rows;
  const notes = [
    stride > 1 ? `every ${stride}th received probe shown` : '',
    outside ? `${outside} probe(s) far out of sequence not shown` : '',
    moves.length > shown.length ? `first ${shown.length} of ${moves.length} handovers` : '',
  ].filter(Boolean);
  return {
    ...base,
    title: {
      text: 'around each handover',
      subtitle: [
        'one row per flow, one column per handover; x: ms after the L2 event (dashed line)',
        `blue: received probes at their arrival time; red crosses: lost probes at their send time; y: sequence number relative to the last probe sent before the event${notes.length ? `; ${notes.join('; ')}` : ''}`,
      ],
    },
    data: { values },
    facet: {
      row: { field: 'flow', type: 'nominal', title: null },
      column: { field: 'ho', type: 'ordinal', title: null, sort: shown.map((m) => `#${m.index} ${m.from}→${m.to}`), header: { labelFontSize: 10 } },
    },
    spec: {
      width: 110,
      height: 90,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'received'" }],
          mark: { type: 'point', filled: true, size: 8, color: '#1f77b4', clip: true },
          encoding: {
            x: { field: 'ms', type: 'quantitative', title: 'ms after L2 event', scale: { domain: [-before, after] } },
            y: { field: 'rel', type: 'quantitative', title: 'probe' },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'lost'" }],
          mark: { type: 'point', shape: 'cross', filled: true, size: 14, color: '#d62728', clip: true },
          encoding: { x: { field: 'ms', type: 'quantitative' }, y: { field: 'rel', type: 'quantitative' } },
        },
        // one rule per cell, not one per probe (a datum-only rule is drawn once per row of its data)
        { transform: [{ aggregate: [{ op: 'count', as: 'n' }], groupby: ['ho', 'flow'] }], mark: { type: 'rule', color: '#888', strokeDash: [4, 3] }, encoding: { x: { datum: 0 } } },
      ],
    },
    resolve: { scale: { y: 'shared' } },
  } as TopLevelSpec;
}

/** Gap per handover, one bar per flow. */
export function gapSpec(metrics: Metrics): TopLevelSpec | null {
  const rows = metrics.flows.flatMap((f) => f.handovers.filter((h) => h.gapMs !== null).map((h) => ({ ho: h.index, flow: f.flow, gapMs: h.gapMs, lost: h.lost ?? 0 })));
  if (!rows.length) return null;
  return {
    ...base,
    title: { text: 'gap per handover', subtitle: 'longest time without arrivals around the L2 event (ms)' },
    data: { values: rows },
    width: { step: 28 },
    height: 200,
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'ho', type: 'ordinal', title: 'handover', axis: { labelAngle: 0 } },
          xOffset: { field: 'flow', type: 'nominal' },
          y: { field: 'gapMs', type: 'quantitative', title: 'gap (ms)' },
          color: { field: 'flow', type: 'nominal' },
        },
      },
      {
        mark: { type: 'text', dy: -4, fontSize: 8, baseline: 'bottom' },
        encoding: {
          x: { field: 'ho', type: 'ordinal' },
          xOffset: { field: 'flow', type: 'nominal' },
          y: { field: 'gapMs', type: 'quantitative' },
          text: { field: 'gapMs', type: 'quantitative', format: '.1f' },
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * The timeline's x axis: linear over the bulk of the steps, with far-out late
 * steps (above Tukey's outer fence, Q3 + 3 IQR, the IQR taken as at least
 * 1 ms) left out of the domain when they would leave the bulk less than a
 * third of it. One MN address at 440 ms must not squash
 * every other handover's 0-10 ms into the first twentieth of the axis. A log
 * scale would keep them all but cannot show the steps at 0 ms or before the
 * L2 event and bends the few-ms differences a reader compares; a broken axis
 * needs two views with shared rows. So the outliers are drawn apart, past the
 * axis's end, each with its time written out.
 */
export function timelineAxis(values: number[]): { lo: number; hi: number; cut: number | null } {
  const v = [...values].sort((a, b) => a - b);
  const lo = Math.min(0, v[0] ?? 0);
  const top = v[v.length - 1] ?? 0;
  if (v.length < 4) return { lo, hi: top, cut: null };
  const q = (p: number) => {
    const i = (v.length - 1) * p;
    const f = Math.floor(i);
    return (v[f] as number) + ((v[Math.ceil(i)] as number) - (v[f] as number)) * (i - f);
  };
  const q3 = q(0.75);
  const fence = q3 + 3 * Math.max(q(0.75) - q(0.25), 1);
  const hi = v.filter((x) => x <= fence).at(-1) ?? fence;
  // an outlier that leaves the bulk a third of the axis or more squashes nothing: keep one plain axis
  if (top <= fence || top - lo <= 3 * (hi - lo)) return { lo, hi: top, cut: null };
  return { lo, hi, cut: fence };
}

/** Signaling steps of each handover on one time axis (ms after the L2 event); far-late steps marked apart. */
export function timelineSpec(metrics: Metrics): TopLevelSpec | null {
  const rows: Array<{ ho: string; step: string; ms: number }> = [];
  const order: string[] = [];
  for (const h of metrics.handovers) {
    const ho = `#${h.index} ${h.from}→${h.to}`;
    for (const [k, label] of STEP_LABELS) {
      const v = h.timeline[k];
      if (typeof v === 'number') rows.push({ ho, step: label, ms: v });
    }
    for (const [flow, v] of Object.entries(h.timeline.firstPacket)) if (v !== null) rows.push({ ho, step: `first packet (${flow})`, ms: v });
  }
  if (!rows.length) return null;
  const hoOrder = metrics.handovers.map((h) => `#${h.index} ${h.from}→${h.to}`);
  for (const [, l] of STEP_LABELS) if (rows.some((r) => r.step === l)) order.push(l);
  for (const r of rows) if (!order.includes(r.step)) order.push(r.step);
  const WIDTH = 700;
  const axis = timelineAxis(rows.map((r) => r.ms));
  const late = axis.cut === null ? [] : rows.filter((r) => r.ms > axis.cut!);
  const bulk = axis.cut === null ? rows : rows.filter((r) => r.ms <= axis.cut!);
  const y = { field: 'ho', type: 'ordinal', title: null, sort: hoOrder } as const;
  const LATE_COLUMN = 80; // px past the axis for the outliers and their times; the legend moves right by as much
  const color = {
    field: 'step',
    type: 'nominal',
    sort: order,
    scale: { scheme: 'tableau20', domain: order },
    title: 'step',
    legend: { labelLimit: 300, offset: late.length ? LATE_COLUMN : 18 },
  } as const;
  const shape = { field: 'step', type: 'nominal', sort: order, scale: { domain: order }, title: 'step' } as const;
  const lateLayers = late.length
    ? [
        // apart from the axis: a fixed pixel column past its end, with the time as text
        { data: { values: late }, mark: { type: 'rule', color: '#ccc', strokeDash: [2, 2] }, encoding: { y, x: { value: WIDTH }, x2: { value: WIDTH + 14 } } },
        { data: { values: late }, mark: { type: 'point', filled: true, size: 60, opacity: 0.9 }, encoding: { y, x: { value: WIDTH + 18 }, color, shape } },
        { data: { values: [{ label: 'later' }] }, mark: { type: 'text', align: 'left', baseline: 'bottom', fontSize: 10, color: '#666' }, encoding: { x: { value: WIDTH + 10 }, y: { value: -2 }, text: { field: 'label' } } },
        {
          data: { values: late },
          transform: [{ calculate: "format(datum.ms, '.0f') + ' ms'", as: 'label' }],
          mark: { type: 'text', align: 'left', dx: 8, fontSize: 10 },
          encoding: { y, x: { value: WIDTH + 18 }, text: { field: 'label', type: 'nominal' } },
        },
      ]
    : [];
  const note = late.length ? `; ${late.length} step(s) after ${axis.cut!.toFixed(1)} ms (far outliers) shown apart on the right with their time` : '';
  return {
    ...base,
    title: { text: 'signaling timeline', subtitle: `first occurrence of each step after the L2 event (ms); one row per handover${note}` },
    width: WIDTH,
    height: { step: 22 },
    layer: [
      {
        data: { values: bulk },
        mark: { type: 'rule', color: '#ccc' },
        encoding: { y: { field: 'ho', type: 'ordinal', sort: hoOrder }, x: { aggregate: 'min', field: 'ms' }, x2: { aggregate: 'max', field: 'ms' } },
      },
      {
        data: { values: bulk },
        mark: { type: 'point', filled: true, size: 60, opacity: 0.9 },
        encoding: {
          x: { field: 'ms', type: 'quantitative', title: 'ms after the L2 event', scale: { domain: [axis.lo, axis.hi], nice: true, zero: false } },
          y,
          color,
          shape,
        },
      },
      ...lateLayers,
    ],
  } as TopLevelSpec;
}

const IFACE_BINS = 150;

/** Which MN interface carried each flow: probes per second per interface over time, one row per flow. */
export function interfaceSpec(rows: FlowOnInterface[], moves: Move[]): TopLevelSpec | null {
  if (!rows.length) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    lo = Math.min(lo, r.first);
    hi = Math.max(hi, r.last);
  }
  if (!(hi > lo)) hi = lo + 1e6;
  // round bins of at least 100 ms (20 probes at 200 pps): a rate, not a dot per probe; at most IFACE_BINS of them
  const NICE_MS = [100, 200, 250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000];
  const wantMs = (hi - lo) / 1e6 / IFACE_BINS;
  const widthMs = NICE_MS.find((w) => w >= wantMs) ?? Math.ceil(wantMs / 60_000) * 60_000;
  const bins = Math.max(1, Math.ceil((hi - lo) / (widthMs * 1e6)));
  hi = lo + bins * widthMs * 1e6;
  const flows = [...new Set(rows.map((r) => r.flow))];
  // the L2 events as rows of every flow's facet (a facet takes one data source)
  const values: Array<Record<string, unknown>> = [...binnedRates(rows, lo, hi, bins), ...flows.flatMap((flow) => moves.map((m) => ({ flow, t: m.t / 1e9, move: `#${m.index}` })))];
  return {
    ...base,
    title: {
      text: 'which interface carried which flow',
      subtitle: `probes per second seen on each MN interface (its capture), ${widthMs} ms bins; in: received there, out: sent from there; dashed: L2 events`,
    },
    data: { values },
    facet: { row: { field: 'flow', type: 'nominal', title: 'flow' } },
    spec: {
      width: 900,
      height: 120,
      layer: [
        {
          transform: [{ filter: 'datum.move == null' }],
          mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
          encoding: {
            x: { field: 't', type: 'quantitative', title: 'time since start (s)' },
            y: { field: 'pps', type: 'quantitative', title: 'probes/s' },
            color: { field: 'iface', type: 'nominal', title: 'interface' },
          },
        },
        { transform: [{ filter: 'datum.move != null' }], mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { x: { field: 't', type: 'quantitative' } } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}
