import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Progress } from '../cli/progress.js';
import { badInput } from '../errors.js';
import { writeReport } from '../report/index.js';
import { readStateFile } from '../netns/index.js';
import { runPaths, runsRoot } from '../run/paths.js';
import { runExperiment } from '../scenario/experiment.js';
import { pointLabel, type SweepPlan } from './sweep-file.js';
import { CellRecord, initialState, readState, sweepPaths, writeJsonAtomic, type SweepState } from './sweep-state.js';
import { writeSweepSummary } from './write-summary.js';

// Runs a sweep's cells one after another, each as `pmiplab run` would
// (in-process: up, scenario, down, report), and moves each run folder into
// the sweep folder. A failing cell is recorded with its error and the sweep
// goes on; a resumed sweep skips the cells that finished (status ok) and
// runs the failed and the unfinished ones again.

export interface CellJob {
  id: string;
  experimentFile: string;
  dir: string;
}

/** One cell, start to report; returns the run id. Throws on failure (the cell is then recorded as failed). */
export type CellRunner = (job: CellJob, progress: Progress) => Promise<{ runId: string }>;

export interface SweepOptions {
  dir: string;
  progress: Progress;
  /** progress of the steps inside a cell (bring-up, scenario, ...) */
  cellProgress: Progress;
  capture?: boolean;
  runCell?: CellRunner;
  /** stop after this many cells were run (tests) */
  maxCells?: number;
}

export interface SweepOutcome {
  state: SweepState;
  ran: number;
  skipped: number;
  failed: number;
}

const KEEP = new Set(['experiment.yaml']);

/** Make a new sweep folder: sweep.json and every cell's experiment, before anything runs. */
export function createSweepDir(plan: SweepPlan, dir: string, sweepText: string): SweepState {
  const paths = sweepPaths(dir);
  if (existsSync(paths.state)) throw badInput(`${dir} already holds a sweep`, `pmiplab sweep --resume ${dir} goes on with it; or give another --out`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'sweep.yaml'), sweepText);
  for (const c of plan.cells) {
    mkdirSync(paths.cell(c.id), { recursive: true });
    writeFileSync(paths.cellExperiment(c.id), c.point.experiment);
  }
  const state = initialState(plan);
  writeJsonAtomic(paths.state, state);
  return state;
}

/** The state of a sweep folder, with the cells' own records (cell.json) taken over. */
export function loadSweepDir(dir: string, expectHash?: string): SweepState {
  const state = readState(dir);
  if (expectHash && state.hash !== expectHash) {
    throw badInput(`${dir} was made from another version of this sweep (hash ${state.hash}, the file now gives ${expectHash})`, 'resume without the file (pmiplab sweep --resume DIR), or start a new sweep folder');
  }
  const paths = sweepPaths(dir);
  state.cells = state.cells.map((c) => {
    const f = paths.cellRecord(c.id);
    if (!existsSync(f)) return { ...c, status: c.status === 'ok' ? 'pending' : c.status };
    const r = CellRecord.safeParse(JSON.parse(readFileSync(f, 'utf8')));
    return r.success ? r.data : c;
  });
  return state;
}

const fmtS = (s: number) => (s >= 90 ? `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s` : `${s.toFixed(1)} s`);

export async function runSweep(state: SweepState, opts: SweepOptions): Promise<SweepOutcome> {
  const paths = sweepPaths(opts.dir);
  const runCell = opts.runCell ?? realCell(opts.capture ?? true);
  const total = state.cells.length;
  const todo = state.cells.filter((c) => c.status !== 'ok');
  const skipped = total - todo.length;
  if (skipped) opts.progress.info(`resuming: ${skipped} of ${total} cells finished before, ${todo.length} to run`);
  const t0 = performance.now();
  const durations: number[] = [];
  let ran = 0;
  let failed = 0;
  for (const rec of todo) {
    if (opts.maxCells !== undefined && ran >= opts.maxCells) break;
    const k = state.cells.indexOf(rec) + 1;
    const point = state.points.find((p) => p.id === rec.point);
    const label = `cell ${k}/${total} ${rec.id} (${point ? pointLabel(point.values) : '?'})`;
    opts.progress.info(`${label} ...`);
    const dir = paths.cell(rec.id);
    // what an interrupted attempt left (a half-moved run folder) goes; the experiment stays
    mkdirSync(dir, { recursive: true });
    for (const e of readdirSync(dir)) if (!KEEP.has(e)) rmSync(path.join(dir, e), { recursive: true, force: true });
    dropTornDownRuns(paths.cellExperiment(rec.id));
    const startedAt = new Date().toISOString();
    const c0 = performance.now();
    let next: CellRecord;
    try {
      const { runId } = await runCell({ id: rec.id, experimentFile: paths.cellExperiment(rec.id), dir }, opts.cellProgress);
      next = { ...rec, status: 'ok', runId, startedAt, durationS: round((performance.now() - c0) / 1000), error: null };
    } catch (err) {
      failed++;
      const e = err as Error & { hint?: string; runId?: string };
      next = { ...rec, status: 'failed', runId: e.runId ?? null, startedAt, durationS: round((performance.now() - c0) / 1000), error: `${e.message}${e.hint ? ` (hint: ${e.hint})` : ''}` };
    }
    ran++;
    durations.push(next.durationS ?? 0);
    writeJsonAtomic(paths.cellRecord(rec.id), next);
    state.cells[k - 1] = next;
    const elapsed = (performance.now() - t0) / 1000;
    const left = Math.min(todo.length, opts.maxCells ?? Infinity) - ran;
    const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
    const status = next.status === 'ok' ? `ok in ${fmtS(next.durationS ?? 0)}` : `FAILED after ${fmtS(next.durationS ?? 0)}: ${next.error}`;
    opts.progress.info(`${label} ${status}; elapsed ${fmtS(elapsed)}, ${left ? `about ${fmtS(mean * left)} left` : 'none left'}`);
    await writeSweepSummary(opts.dir, state);
  }
  if (!ran) await writeSweepSummary(opts.dir, state);
  return { state, ran, skipped, failed };
}

const round = (s: number) => Math.round(s * 100) / 100;

/** A cell as `pmiplab run` plays it, in-process; the run folder then moves into the cell folder. */
function realCell(capture: boolean): CellRunner {
  return async (job, progress) => {
    let runDir: string | null = null;
    let runId: string | undefined;
    try {
      const { lab, dir } = await runExperiment(job.experimentFile, { capture, progress });
      runDir = dir;
      runId = lab.runId;
      await lab.down();
      await writeReport(dir);
      return { runId };
    } catch (err) {
      if (runId && err instanceof Error) Object.assign(err, { runId });
      throw err;
    } finally {
      // also a failed cell's folder (logs) goes into the sweep, for the post mortem
      runDir ??= runsOf(job.experimentFile)[0] ?? null;
      if (runDir) moveRunFolder(runDir, job.dir);
    }
  };
}

/** Run folders made from `source` (a bring-up that failed returns no lab; an interrupted cell leaves one): their plans name the file. */
export function runsOf(source: string): string[] {
  const root = runsRoot();
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const id of readdirSync(root)) {
    try {
      const p = JSON.parse(readFileSync(runPaths(id, root).plan, 'utf8')) as { source?: unknown };
      if (p.source === path.resolve(source)) out.push(runPaths(id, root).dir);
    } catch {
      // not a run folder, or one without a plan
    }
  }
  return out;
}

/** Drop the run folders an interrupted attempt of a cell left, once they are torn down (cleanup handles the others). */
function dropTornDownRuns(source: string): void {
  for (const dir of runsOf(source)) {
    const st = readStateFile(path.join(dir, 'state.json'));
    if (!st || st.cleanedAt) rmSync(dir, { recursive: true, force: true });
  }
}

/** Move what a person keeps of a run folder (not the Redis socket or state) into `to`, then drop the run folder. */
export function moveRunFolder(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from)) {
    if (/^(redis\.sock|state\.json|dump\.rdb)$/.test(e)) continue;
    const src = path.join(from, e);
    const dst = path.join(to, e);
    try {
      renameSync(src, dst);
    } catch {
      cpSync(src, dst, { recursive: true });
    }
  }
  rmSync(from, { recursive: true, force: true });
}

export { readState };
