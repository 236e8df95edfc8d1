import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildMetrics, movesOfFlow } from './build.js';
import { metricsCsv } from './csv.js';
import { reportHtml } from './html.js';
import { readRun } from './inputs.js';
import { DEFAULT_METRIC_OPTIONS, type MetricOptions } from './metrics.js';
import { buildLadder } from '../study/ladder.js';
import { ladderHtml } from './ladder-page.js';
import { gapSpec, interfaceSpec, renderSvg, sequenceSpec, timelineSpec, zoomSpec } from './plots.js';
import type { Metrics } from './schema.js';

// The report of a run folder: metrics.json, metrics.csv, report.html.
// `pmiplab run` calls writeReport after the scenario, `pmiplab report` on
// any run folder afterwards (the inputs stay in the folder). A run with
// captures of its MAGs or LMA also gets ladder.html (its signaling as
// message sequence charts, as `pmiplab ladder` draws it), linked from the
// report.

export { summaryTable } from './summary.js';
export { Metrics, METRICS_SCHEMA } from './schema.js';
export type { FlowInterface, FlowMetrics, FlowHandover, Handover, StageTables, Timeline } from './schema.js';

export interface ReportResult {
  metrics: Metrics;
  /** absolute paths of the files written */
  files: string[];
}

const hasPcaps = (dir: string) => existsSync(path.join(dir, 'pcaps')) && readdirSync(path.join(dir, 'pcaps')).some((f) => f.endsWith('.pcap'));

export async function writeReport(runDir: string, opts: Partial<MetricOptions> & { ladder?: boolean } = {}): Promise<ReportResult> {
  const dir = path.resolve(runDir);
  const { ladder: wantLadder = true, ...metricOpts } = opts;
  const built = buildMetrics(readRun(dir), { ...DEFAULT_METRIC_OPTIONS, ...metricOpts });
  const { metrics, series, moves, onInterfaces } = built;
  const files = [path.join(dir, 'metrics.json'), path.join(dir, 'metrics.csv'), path.join(dir, 'report.html')];
  writeFileSync(files[0]!, `${JSON.stringify(metrics, null, 2)}\n`);
  writeFileSync(files[1]!, metricsCsv(metrics));
  const render = async (spec: Parameters<typeof renderSvg>[0] | null) => (spec ? renderSvg(spec) : null);
  const plots = {
    sequence: await Promise.all(
      // the dashed handovers of a flow: those it is charged with (its interfaces' moves)
      series.map((f) => renderSvg(sequenceSpec(f, movesOfFlow(f, moves, onInterfaces)))),
    ),
    zoom: await render(zoomSpec(series, moves, metrics)),
    gap: await render(gapSpec(metrics)),
    timeline: await render(timelineSpec(metrics)),
    interfaces: await render(interfaceSpec(onInterfaces, moves)),
  };
  // after metrics.json: the ladder places its handovers by the metrics' L2 events
  let ladder: string | null = null;
  if (wantLadder && hasPcaps(dir)) {
    const file = path.join(dir, 'ladder.html');
    try {
      const l = buildLadder(dir);
      // only the LMA's and MAGs' captures hold signaling: none of them, no page
      if (l.arrows.length) {
        writeFileSync(file, await ladderHtml(dir, l, path.basename(dir)));
        ladder = 'ladder.html';
        files.push(file);
      }
    } catch (e) {
      metrics.warnings.push(`no ladder.html: ${(e as Error).message}`);
      writeFileSync(files[0]!, `${JSON.stringify(metrics, null, 2)}\n`);
    }
  }
  writeFileSync(files[2]!, reportHtml(metrics, plots, { ladder }));
  return { metrics, files };
}
