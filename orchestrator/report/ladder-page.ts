import type { TopLevelSpec } from 'vega-lite';
import { ladderRows, type Ladder } from '../study/ladder.js';
import { renderSvg } from './plots.js';
import { htmlTable, PAGE_STYLE } from './sweep-page.js';

// ladder.html: the signaling of each handover as a message sequence chart
// (lanes: MAGs and LMA; time runs down, ms after the L2 event), and every
// message in a table with the capture files it was read from.

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', config: { font: 'sans-serif', view: { stroke: null }, aria: false } } as const;

export function ladderSpec(l: Ladder, maxHandovers = 12): TopLevelSpec | null {
  const shown = new Set(l.handovers.slice(0, maxHandovers).map((h) => h.label));
  const rows = ladderRows(l).filter((r) => shown.has(r.ho));
  if (!rows.length) return null;
  const lanes = l.lanes.map((name, i) => ({ lane: i, name }));
  const hos = [...shown].filter((h) => rows.some((r) => r.ho === h));
  const laneRows = hos.flatMap((ho) => lanes.map((x) => ({ ...x, ho })));
  const yMax = Math.max(...rows.map((r) => r.rxMs), 1);
  const y = { type: 'quantitative', scale: { reverse: true, domain: [Math.min(0, ...rows.map((r) => r.txMs)), yMax * 1.05] }, title: 'ms after the L2 event' };
  const x = { type: 'quantitative', scale: { domain: [-0.5, l.lanes.length - 0.5] }, axis: null };
  const color = { field: 'kind', type: 'nominal', title: 'message', scale: { domain: ['pbu', 'pba', 'bindingError', 'updateNotification', 'updateNotificationAck'], range: ['#1f77b4', '#2ca02c', '#d62728', '#9467bd', '#8c564b'] } };
  return {
    ...base,
    title: { text: 'signaling per handover (from the pcaps)', subtitle: 'an arrow leaves when the sender’s interface captured the message and ends when the receiver’s did; dashed: not captured at the receiver' },
    data: { values: [...rows.map((r) => ({ ...r, t: 'msg' })), ...laneRows.map((r) => ({ ...r, t: 'lane' }))] },
    facet: { field: 'ho', type: 'ordinal', sort: hos, title: null },
    columns: 4,
    spec: {
      width: 260,
      height: 260,
      layer: [
        { transform: [{ filter: "datum.t === 'lane'" }], mark: { type: 'rule', color: '#bbb' }, encoding: { x: { field: 'lane', ...x } } },
        { transform: [{ filter: "datum.t === 'lane'" }], mark: { type: 'text', baseline: 'bottom', fontWeight: 'bold', dy: -2, y: 0 }, encoding: { x: { field: 'lane', ...x }, text: { field: 'name' } } },
        {
          transform: [{ filter: "datum.t === 'msg'" }],
          mark: { type: 'rule', strokeWidth: 1.5 },
          encoding: { x: { field: 'from', ...x }, x2: { field: 'to' }, y: { field: 'txMs', ...y }, y2: { field: 'rxMs' }, color, strokeDash: { field: 'lost', type: 'nominal', scale: { domain: [false, true], range: [[1, 0], [4, 3]] }, legend: null } },
        },
        { transform: [{ filter: "datum.t === 'msg'" }], mark: { type: 'point', filled: true, size: 30 }, encoding: { x: { field: 'to', ...x }, y: { field: 'rxMs', ...y }, color } },
        {
          transform: [{ filter: "datum.t === 'msg'" }, { calculate: '(datum.from + datum.to) / 2', as: 'mid' }, { calculate: '(datum.txMs + datum.rxMs) / 2', as: 'midMs' }, { calculate: "datum.label + ' (' + format(datum.txMs, '.1f') + ')'", as: 'text' }],
          mark: { type: 'text', fontSize: 9, dy: -5 },
          encoding: { x: { field: 'mid', ...x }, y: { field: 'midMs', ...y }, text: { field: 'text' }, color },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

export async function ladderHtml(runDir: string, l: Ladder, name: string): Promise<string> {
  const spec = ladderSpec(l);
  const svg = spec ? await renderSvg(spec) : null;
  const t0 = l.arrows.find((a) => a.txNs !== null)?.txNs ?? 0n;
  const rel = (v: bigint | null) => (v === null ? null : (Number(v - t0) / 1e6).toFixed(3));
  const rows = l.arrows
    .filter((a) => a.kind !== 'heartbeat')
    .map((a) => [a.label, a.from, a.to, rel(a.txNs), rel(a.rxNs), a.txNs !== null && a.rxNs !== null ? (Number(a.rxNs - a.txNs) / 1e3).toFixed(1) : null, a.txFile, a.rxFile]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pmiplab ladder ${esc(name)}</title><style>${PAGE_STYLE}</style></head><body>
<h1>signaling of ${esc(name)}</h1>
<p class="note">${esc(runDir)}; clock offset (capture realtime − event monotonic) ${l.clockOffsetNs === null ? 'unknown: no PBU event matched a captured PBU, so no per-handover charts' : `${l.clockOffsetNs} ns`}${l.problems.length ? `; ${l.problems.length} problem(s): ${esc(l.problems.slice(0, 5).join('; '))}` : ''}</p>
${svg ? `<figure>${svg}</figure>` : '<p>no signaling inside a handover window (a run without pcaps, or without handovers)</p>'}
<section><h2>every message (heartbeats left out)</h2>
${htmlTable(['message', 'from', 'to', 'sent ms', 'received ms', 'one-way µs', 'sender pcap', 'receiver pcap'], rows)}
<p class="note">ms from the first captured message; times are the capture times at each end.</p></section>
</body></html>
`;
}
