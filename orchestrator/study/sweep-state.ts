import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { badInput } from '../errors.js';
import { SWEEP_SCHEMA, type SweepPlan } from './sweep-file.js';

// The sweep folder: sweep.json (what the sweep is and where each cell
// stands), cells/<cell>/ (the cell's experiment.yaml, then the run folder's
// contents and cell.json once the cell is finished). Written before the first
// cell runs and after each one, so an interrupted sweep can be resumed.

export const CellStatus = z.enum(['pending', 'ok', 'failed']);
export type CellStatus = z.infer<typeof CellStatus>;

export const CellRecord = z
  .object({
    id: z.string(),
    point: z.string(),
    rep: z.number().int().positive(),
    status: CellStatus,
    runId: z.string().nullable(),
    startedAt: z.string().nullable(),
    durationS: z.number().nullable(),
    error: z.string().nullable(),
  })
  .strict();
export type CellRecord = z.infer<typeof CellRecord>;

export const SweepState = z
  .object({
    schema: z.literal(SWEEP_SCHEMA),
    name: z.string(),
    file: z.string(),
    experimentFile: z.string(),
    hash: z.string(),
    parameters: z.array(z.object({ path: z.string(), values: z.array(z.unknown()) }).strict()),
    set: z.record(z.string(), z.unknown()),
    repeat: z.number().int().positive(),
    plot: z.object({ x: z.string().nullable(), series: z.string().nullable() }).strict(),
    points: z.array(z.object({ id: z.string(), values: z.record(z.string(), z.unknown()) }).strict()),
    cells: z.array(CellRecord),
    /** filled by the summary (orchestrator/study/summary.ts) */
    stats: z.array(z.unknown()).default([]),
    updatedAt: z.string(),
  })
  .strict();
export type SweepState = z.infer<typeof SweepState>;

export const sweepPaths = (dir: string) => ({
  dir,
  state: path.join(dir, 'sweep.json'),
  csv: path.join(dir, 'summary.csv'),
  html: path.join(dir, 'summary.html'),
  cell: (id: string) => path.join(dir, 'cells', id),
  cellExperiment: (id: string) => path.join(dir, 'cells', id, 'experiment.yaml'),
  cellRecord: (id: string) => path.join(dir, 'cells', id, 'cell.json'),
});

export function initialState(plan: SweepPlan): SweepState {
  return {
    schema: SWEEP_SCHEMA,
    name: plan.name,
    file: plan.file,
    experimentFile: plan.experimentFile,
    hash: plan.hash,
    parameters: plan.parameters,
    set: plan.set,
    repeat: plan.repeat,
    plot: plan.plot,
    points: plan.points.map((p) => ({ id: p.id, values: p.values })),
    cells: plan.cells.map((c) => ({ id: c.id, point: c.point.id, rep: c.rep, status: 'pending', runId: null, startedAt: null, durationS: null, error: null })),
    stats: [],
    updatedAt: new Date().toISOString(),
  };
}

export function readState(dir: string): SweepState {
  const f = sweepPaths(dir).state;
  if (!existsSync(f)) throw badInput(`${dir} is not a sweep folder (no sweep.json)`, 'give the folder `pmiplab sweep` wrote (its --out)');
  const r = SweepState.safeParse(JSON.parse(readFileSync(f, 'utf8')));
  if (!r.success) throw badInput(`${f}: not a sweep state this version reads: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** Write through a temporary file: an interrupt never leaves half a sweep.json. */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}
