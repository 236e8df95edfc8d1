import path from 'node:path';
import { csvLine } from './csv.js';
import { pool, readMetrics, samplesOf, STUDY_METRICS, type MetricKey, type Samples } from './samples.js';
import { medianCi, type MedianCi } from './stats.js';
import { sweepPaths, type SweepState } from './sweep-state.js';
import { valueLabel } from './sweep-file.js';

// A sweep's numbers: per grid point, flow and metric, the per-handover values
// of all its finished repetitions pooled, their median and its 95% interval.

export interface PointStat extends MedianCi {
  point: string;
  values: Record<string, unknown>;
  flow: string;
  metric: MetricKey;
  /** finished repetitions pooled */
  runs: number;
}

/** Samples of each grid point from its finished cells. */
export function pointSamples(dir: string, state: SweepState): Map<string, { runs: number; samples: Samples }> {
  const paths = sweepPaths(dir);
  const out = new Map<string, { runs: number; samples: Samples }>();
  for (const p of state.points) {
    const runs = state.cells
      .filter((c) => c.point === p.id && c.status === 'ok')
      .map((c) => readMetrics(paths.cell(c.id)))
      .filter((m) => m !== null)
      .map(samplesOf);
    out.set(p.id, { runs: runs.length, samples: pool(runs) });
  }
  return out;
}

export function sweepStats(dir: string, state: SweepState): PointStat[] {
  const rows: PointStat[] = [];
  const bySample = pointSamples(dir, state);
  for (const p of state.points) {
    const s = bySample.get(p.id);
    if (!s) continue;
    for (const [flow, metrics] of Object.entries(s.samples)) {
      for (const m of STUDY_METRICS) rows.push({ point: p.id, values: p.values, flow, metric: m.key, runs: s.runs, ...medianCi(metrics[m.key]) });
    }
  }
  return rows;
}

export function statsCsv(state: SweepState, rows: PointStat[]): string {
  const params = state.parameters.map((p) => p.path);
  const head = ['point', ...params, 'flow', 'metric', 'runs', 'n', 'median', 'ci_lo', 'ci_hi', 'ci_coverage'];
  const cellsOf = (point: string) => state.cells.filter((c) => c.point === point);
  const lines = [csvLine(head)];
  for (const r of rows) {
    lines.push(csvLine([r.point, ...params.map((p) => valueLabel(r.values[p])), r.flow, r.metric, r.runs, r.n, r.median, r.lo, r.hi, r.coverage === null ? null : Math.round(r.coverage * 10000) / 10000]));
  }
  // grid points with no finished cell still get a row, so the CSV shows the whole grid
  for (const p of state.points) {
    if (rows.some((r) => r.point === p.id)) continue;
    const failed = cellsOf(p.id).filter((c) => c.status === 'failed').length;
    lines.push(csvLine([p.id, ...params.map((x) => valueLabel(p.values[x])), '', failed ? 'failed' : 'pending', 0, 0, null, null, null, null]));
  }
  return `${lines.join('\n')}\n`;
}

export const relCell = (dir: string, id: string) => path.relative(dir, sweepPaths(dir).cell(id));

/** A parameter key as a column head: the last name of its first path ("scenario[0].action.rate, ..." → "rate"). */
export const shortParam = (key: string) => (key.split(',')[0] ?? key).trim().split('.').pop()?.replace(/\[\d+\]$/, '') ?? key;

/**
 * The sweep's numbers as text rows (head first): per grid point and flow,
 * the handovers pooled (n), and per metric the median with its 95% interval;
 * the seconds its cells took. `pmiplab sweep` prints it at the end.
 */
export function summaryRows(state: SweepState, rows: PointStat[]): string[][] {
  const params = state.parameters.map((p) => p.path);
  const f = (v: number | null, d: number) => (v === null ? '-' : v.toFixed(d));
  const ci = (s: PointStat | undefined, d: number) => (s && s.median !== null ? `${f(s.median, d)} [${f(s.lo, d)}, ${f(s.hi, d)}]` : '-');
  const out: string[][] = [['POINT', ...params.map(shortParam).map((p) => p.toUpperCase()), 'FLOW', 'N', 'GAP MS [95%]', 'LOST [95%]', 'ADDED DELAY MS [95%]', 'REORD', 'CELL S']];
  for (const p of state.points) {
    const secs = state.cells.filter((c) => c.point === p.id && c.durationS !== null).map((c) => c.durationS!.toFixed(1)).join('/') || '-';
    const mine = rows.filter((r) => r.point === p.id);
    const flows = [...new Set(mine.map((r) => r.flow))];
    if (!flows.length) out.push([p.id, ...params.map((x) => valueLabel(p.values[x])), '-', '0', '-', '-', '-', '-', secs]);
    for (const flow of flows) {
      const m = (k: MetricKey) => mine.find((r) => r.flow === flow && r.metric === k);
      out.push([p.id, ...params.map((x) => valueLabel(p.values[x])), flow, String(m('gapMs')?.n ?? 0), ci(m('gapMs'), 1), ci(m('lost'), 0), ci(m('addedDelayMs'), 2), f(m('reordered')?.median ?? null, 0), secs]);
    }
  }
  return out;
}
