import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildMetrics, movesOfFlow } from './build.js';
import { metricsCsv } from './csv.js';
import { reportHtml } from './html.js';
import { readRun } from './inputs.js';
import { DEFAULT_METRIC_OPTIONS, type MetricOptions } from './metrics.js';
import { gapSpec, interfaceSpec, renderSvg, sequenceSpec, timelineSpec, zoomSpec } from './plots.js';
import type { Metrics } from './schema.js';

// The report of a run folder: metrics.json, metrics.csv, report.html.
// `pmiplab run` calls writeReport after the scenario, `pmiplab report` on
// any run folder afterwards (the inputs stay in the folder).

export { summaryTable } from './summary.js';
export { Metrics, METRICS_SCHEMA } from './schema.js';
export type { FlowInterface, FlowMetrics, FlowHandover, Handover, StageTables, Timeline } from './schema.js';

export interface ReportResult {
  metrics: Metrics;
  /** absolute paths of the files written */
  files: string[];
}

export async function writeReport(runDir: string, opts: Partial<MetricOptions> = {}): Promise<ReportResult> {
  const dir = path.resolve(runDir);
  const built = buildMetrics(readRun(dir), { ...DEFAULT_METRIC_OPTIONS, ...opts });
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
  writeFileSync(files[2]!, reportHtml(metrics, plots));
  return { metrics, files };
}
