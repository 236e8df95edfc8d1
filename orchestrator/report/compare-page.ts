import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { Comparison } from '../study/compare.js';
import { STUDY_METRICS } from '../study/samples.js';
import { renderSvg } from './plots.js';
import { htmlTable, PAGE_STYLE } from './sweep-page.js';

// The page of `pmiplab compare`: the groups, the settings in which their
// resolved plans differ, and per metric the distribution of the per-handover
// values of each group (box: quartiles, whiskers: min-max, dots: every
// handover), medians with their 95% interval, and the test of every pair.

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
const num = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? '–' : v.toFixed(d));
const pfmt = (p: number | null) => (p === null ? '–' : p < 0.0001 ? p.toExponential(1) : p.toFixed(4));
const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', config: { font: 'sans-serif', view: { stroke: '#ddd' }, aria: false } } as const;

export function distributionSpec(c: Comparison, metric: string): TopLevelSpec | null {
  const def = STUDY_METRICS.find((m) => m.key === metric);
  if (!def) return null;
  // jitter from the golden ratio, not random(): the same comparison draws the same page
  const rows = c.groups.flatMap((g) => Object.entries(g.samples).flatMap(([flow, s]) => s[def.key].map((v, i) => ({ group: g.label, flow, v, jit: ((i * 0.618034) % 1) * 1.2 - 0.6 }))));
  if (!rows.length) return null;
  const order = c.groups.map((g) => g.label);
  const y = { field: 'v', type: 'quantitative', title: `${def.label} (${def.unit})` };
  const x = { field: 'group', type: 'nominal', sort: order, title: null, axis: { labelAngle: -20, labelLimit: 260 } };
  return {
    ...base,
    title: { text: `${def.label} per handover (${def.unit})`, subtitle: `${def.what}; box: quartiles, whiskers: min-max, dots: each handover` },
    data: { values: rows },
    facet: { column: { field: 'flow', type: 'nominal', title: 'flow' } },
    spec: {
      width: Math.max(160, 70 * order.length),
      height: 220,
      layer: [
        { mark: { type: 'boxplot', extent: 'min-max', opacity: 0.35 }, encoding: { x, y, color: { field: 'group', type: 'nominal', sort: order, legend: null } } },
        { mark: { type: 'point', filled: true, size: 16, opacity: 0.8 }, encoding: { x, y, xOffset: { field: 'jit', type: 'quantitative', scale: { domain: [-1, 1] } }, color: { field: 'group', type: 'nominal', sort: order, legend: null } } },
      ],
    },
  } as TopLevelSpec;
}

/** A group's own page, relative to the compare page's folder: a sweep's summary.html, a run's report.html (null: none). */
export function groupPage(dir: string, pageDir: string): string | null {
  const page = ['summary.html', 'report.html'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
  return page ? path.relative(pageDir, page).split(path.sep).join('/') : null;
}

export async function compareHtml(c: Comparison, opts: { pageDir?: string } = {}): Promise<string> {
  const pageDir = opts.pageDir ?? process.cwd();
  const folder = (dir: string) => {
    const page = groupPage(dir, pageDir);
    return page ? `<a href="${esc(page)}">${esc(dir)}</a>` : esc(dir);
  };
  const groupRows = c.groups.map((g) => [esc(g.label), esc(g.detail), folder(g.dir), g.runs, esc(Object.keys(g.samples).join(', ')), Object.values(g.samples)[0]?.gapMs.length ?? 0]);
  const settings = c.settings.length
    ? htmlTable(['setting (resolved plan)', ...c.groups.map((g) => g.label)], c.settings.map((s) => [s.path, ...s.values.map((v) => (v === undefined ? '(absent)' : JSON.stringify(v)))]))
    : '<p>the resolved plans are the same (apart from the run id, its namespace names and the source file)</p>';
  const sections: string[] = [];
  for (const m of STUDY_METRICS) {
    const spec = distributionSpec(c, m.key);
    const svg = spec ? await renderSvg(spec) : null;
    const sums = c.summaries.filter((s) => s.metric === m.key);
    const tests = c.tests.filter((t) => t.metric === m.key);
    sections.push(`<section><h2>${esc(m.label)} (${esc(m.unit)})</h2><p class="note">${esc(m.what)}</p>
${svg ? `<figure>${svg}</figure>` : ''}
<h3>median and 95% interval</h3>${htmlTable(['group', 'flow', 'n', 'median', '95% interval', 'coverage'], sums.map((s) => [s.group, s.flow, s.n, num(s.median), s.lo === null ? null : `[${num(s.lo)}, ${num(s.hi)}]`, s.coverage === null ? null : `${(s.coverage * 100).toFixed(1)}%`]))}
<h3>difference, every pair</h3>${htmlTable(
      ['A', 'B', 'flow', 'n A', 'n B', 'median A', 'median B', 'p (U test)', 'p (Holm)', 'effect (rank-biserial)', 'at 5%'],
      tests.map((t) => [t.a, t.b, t.flow, t.nA, t.nB, num(t.medianA), num(t.medianB), pfmt(t.p), pfmt(t.pHolm), num(t.effect, 2), t.pHolm === null ? '–' : t.pHolm < 0.05 ? (t.effect! > 0 ? 'A higher' : 'A lower') : 'no difference shown']),
    )}</section>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pmiplab compare</title>
<style>${PAGE_STYLE}</style></head><body>
<h1>pmiplab compare: ${c.groups.length} groups</h1>
<section><h2>groups</h2>${htmlTable(['group', 'what', 'folder (its page)', 'runs', 'flows', 'handovers (first flow)'], groupRows, true)}</section>
<section><h2>settings that differ</h2>${settings}</section>
${sections.join('\n')}
<section><h2>statistics</h2><ul class="note">
<li>Samples: one value per handover and flow; a sweep grid point pools the handovers of its finished repetitions.</li>
<li>Test: two-sided Mann-Whitney U test (normal approximation with tie correction), computed by @stdlib/stats-kruskal-test with two groups (the same p-value). p (Holm): adjusted over every pair and flow of the metric. Effect: rank-biserial correlation 2U/(nA nB) - 1, from -1 (every A below every B) to +1 (every A above).</li>
<li>Median interval: exact order-statistic interval (see the sweep page); below n = 6 it is [min, max] with less than 95% coverage.</li>
</ul></section>
</body></html>
`;
}
