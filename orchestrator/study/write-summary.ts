import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sweepHtml } from '../report/sweep-page.js';
import { statsCsv, sweepStats } from './summary.js';
import { sweepPaths, writeJsonAtomic, type SweepState } from './sweep-state.js';

// The sweep summary after each cell: sweep.json (state and statistics),
// summary.csv (one row per grid point, flow and metric), summary.html.
export async function writeSweepSummary(dir: string, state: SweepState): Promise<string[]> {
  const paths = sweepPaths(dir);
  const stats = sweepStats(dir, state);
  state.stats = stats;
  state.updatedAt = new Date().toISOString();
  writeJsonAtomic(paths.state, state);
  writeFileSync(paths.csv, statsCsv(state, stats));
  const compare = existsSync(path.join(dir, 'compare.html')) ? 'compare.html' : null;
  writeFileSync(paths.html, await sweepHtml(state, stats, { compare }));
  return [paths.state, paths.csv, paths.html];
}
