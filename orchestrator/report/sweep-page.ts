import type { TopLevelSpec } from 'vega-lite';
import { STUDY_METRICS } from '../study/samples.js';
import type { PointStat } from '../study/summary.js';
import { valueLabel } from '../study/sweep-file.js';
import type { SweepState } from '../study/sweep-state.js';
import { renderSvg } from './plots.js';

// summary.html of a sweep: the cells and, per metric, a table and a plot of
// the median with its 95% interval across the grid: x the plot's x
// parameter, one line per value of its series parameter, one column per
// flow, one row per combination of the other parameters. One self-contained
// page like report.html (inline SVG, no script).

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
const num = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? '–' : v.toFixed(d));

export const PAGE_STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1400px;padding:0 16px;color:#222}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:14px;margin:16px 0 4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}dt{color:#666}dd{margin:0}
table{border-collapse:collapse;font-size:12px;margin:4px 0}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;white-space:nowrap}
th{background:#f5f5f5}td.n{text-align:right;font-variant-numeric:tabular-nums}td.bad{color:#a33;white-space:normal}
.note{color:#666;font-size:12px;margin:2px 0 6px}svg{max-width:100%;height:auto}figure{margin:8px 0}.diff{background:#fff4ce}`;

export function htmlTable(head: string[], rows: Array<Array<string | number | null>>, raw = false): string {
  const cell = (c: string | number | null) => {
    const isNum = typeof c === 'number' || /^[-+]?[\d.]+( \[[-\d., ]+\])?$/.test(String(c ?? ''));
    return `<td${isNum ? ' class="n"' : ''}>${raw ? String(c ?? '') : esc(c ?? '–')}</td>`;
  };
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</tbody></table>`;
}

const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', config: { font: 'sans-serif', view: { stroke: '#ddd' }, aria: false } } as const;

/** Median and 95% interval of one metric across the grid. */
export function sweepMetricSpec(state: SweepState, stats: PointStat[], metric: string): TopLevelSpec | null {
  const def = STUDY_METRICS.find((m) => m.key === metric);
  const x = state.plot.x;
  if (!def || !x) return null;
  const series = state.plot.series;
  const others = state.parameters.map((p) => p.path).filter((p) => p !== x && p !== series);
  const rows = stats
    .filter((s) => s.metric === metric && s.median !== null)
    .map((s) => ({
      x: valueLabel(s.values[x]),
      series: series ? valueLabel(s.values[series]) : 'all',
      rest: others.map((o) => `${o}=${valueLabel(s.values[o])}`).join(', ') || ' ',
      flow: s.flow,
      median: s.median,
      lo: s.lo,
      hi: s.hi,
      n: s.n,
    }));
  if (!rows.length) return null;
  const xOrder = (state.parameters.find((p) => p.path === x)?.values ?? []).map(valueLabel);
  const seriesOrder = series ? (state.parameters.find((p) => p.path === series)?.values ?? []).map(valueLabel) : ['all'];
  const enc = {
    x: { field: 'x', type: 'ordinal', sort: xOrder, title: x, axis: { labelAngle: 0 }, scale: { type: 'point', padding: 0.4 } },
    color: { field: 'series', type: 'nominal', sort: seriesOrder, title: series ?? '', legend: { titleLimit: 400, labelLimit: 300 } },
  };
  return {
    ...base,
    title: { text: `${def.label} (${def.unit}): median and 95% interval per grid point`, subtitle: `${def.what}; every handover of every finished repetition pooled` },
    data: { values: rows },
    facet: {
      column: { field: 'flow', type: 'nominal', title: 'flow' },
      ...(others.length ? { row: { field: 'rest', type: 'nominal', title: null } } : {}),
    },
    spec: {
      width: 260,
      height: 180,
      layer: [
        { mark: { type: 'line', point: true }, encoding: { ...enc, y: { field: 'median', type: 'quantitative', title: `${def.label} (${def.unit})` } } },
        { mark: { type: 'errorbar', ticks: { size: 10 }, opacity: 0.7, thickness: 1.5 }, encoding: { ...enc, y: { field: 'lo', type: 'quantitative', title: `${def.label} (${def.unit})` }, y2: { field: 'hi' } } },
      ],
    },
  } as TopLevelSpec;
}

/** Pages in the sweep folder the summary links to. */
export interface SweepLinks {
  /** compare.html of the grid points (`pmiplab compare <sweep folder>` writes it there) */
  compare?: string | null;
}

export async function sweepHtml(state: SweepState, stats: PointStat[], links: SweepLinks = {}): Promise<string> {
  const params = state.parameters.map((p) => p.path);
  const count = (s: string) => state.cells.filter((c) => c.status === s).length;
  const facts: Array<[string, string]> = [
    ['sweep file', state.file],
    ['experiment', state.experimentFile],
    ...state.parameters.map((p): [string, string] => [`parameter ${p.path}`, p.values.map(valueLabel).join(', ')]),
    ...Object.entries(state.set).map(([k, v]): [string, string] => [`set ${k}`, valueLabel(v)]),
    ['repeat', String(state.repeat)],
    ['cells', `${state.cells.length}: ${count('ok')} ok, ${count('failed')} failed, ${count('pending')} not run`],
    ['updated', state.updatedAt],
  ];
  const cellRows = state.cells.map((c) => {
    const p = state.points.find((x) => x.id === c.point);
    const link = c.status === 'ok' ? `<a href="cells/${esc(c.id)}/report.html">${esc(c.id)}</a>` : esc(c.id);
    return [link, ...params.map((x) => esc(valueLabel(p?.values[x]))), c.rep, esc(c.status), c.durationS === null ? '–' : c.durationS.toFixed(1), esc(c.runId ?? '–'), c.error ? `<span class="bad">${esc(c.error)}</span>` : ''];
  });
  const sections: string[] = [];
  for (const m of STUDY_METRICS) {
    const rows = stats.filter((s) => s.metric === m.key);
    if (!rows.length) continue;
    const spec = sweepMetricSpec(state, stats, m.key);
    const svg = spec ? await renderSvg(spec) : null;
    const table = htmlTable(
      ['point', ...params, 'flow', 'runs', 'n', 'median', '95% interval', 'coverage'],
      rows.map((r) => [r.point, ...params.map((p) => valueLabel(r.values[p])), r.flow, r.runs, r.n, num(r.median, 3), r.lo === null ? null : `[${num(r.lo, 3)}, ${num(r.hi, 3)}]`, r.coverage === null ? null : `${(r.coverage * 100).toFixed(1)}%`]),
    );
    sections.push(`<section><h2>${esc(m.label)} (${esc(m.unit)})</h2><p class="note">${esc(m.what)}</p>${svg ? `<figure>${svg}</figure>` : ''}${table}</section>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pmiplab sweep ${esc(state.name)}</title>
<style>${PAGE_STYLE}</style></head><body>
<h1>pmiplab sweep ${esc(state.name)}</h1>
<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<p>${links.compare ? `The grid points side by side, with a test of difference for every pair: <a href="${esc(links.compare)}">${esc(links.compare)}</a>` : 'The grid points side by side, with a test of difference for every pair: <code>pmiplab compare &lt;this folder&gt;</code> writes compare.html here.'}</p>
<section><h2>cells</h2>${htmlTable(['cell', ...params, 'rep', 'status', 'seconds', 'run', 'error'], cellRows, true)}</section>
${sections.join('\n')}
<section><h2>statistics</h2><ul class="note">
<li>Samples: one value per handover and flow; the handovers of every finished repetition of a grid point are pooled.</li>
<li>Median interval: the exact distribution-free order-statistic interval [x(k), x(n-k+1)] with k the largest rank for which the Binomial(n, 1/2) tail P(B &lt; k) is at most 2.5%; it covers the median with the probability in the coverage column (at least 95% from n = 6 on; below that it is [min, max] with its lower coverage). No resampling, so no random seed.</li>
<li>Metric definitions: docs/metrics.md; added delay is the window's one-way delay p99 minus the flow's baseline p99.</li>
</ul></section>
</body></html>
`;
}
