import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { badInput, PmipError } from '../errors.js';
import { parseTopology } from '../topology/load.js';
import { planTopology } from '../topology/planner.js';
import { parsePath, PathError, setPath } from './doc-path.js';
import type { PathSeg } from '../topology/issues.js';

// A sweep file: an experiment file, parameters named by path into it with the
// values to try, and how often to repeat each grid point. Expanded to cells
// (grid point x repetition); every grid point's experiment goes through the
// same loader and planner as `pmiplab run` before anything runs, so a bad
// value is refused with its cell and path (exit 2).

export const SWEEP_SCHEMA = 'pmiplab.sweep/1';

const Values = z.array(z.unknown()).min(1, 'give at least one value');

export const SweepFile = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a sweep name uses letters, digits, ".", "_" and "-"').optional(),
    experiment: z.string().min(1).describe('the experiment file, relative to the sweep file'),
    set: z.record(z.string(), z.unknown()).optional().describe('changes made in every cell, path: value'),
    parameters: z.record(z.string(), Values).describe('path: [values] (or "path, path": [values], set together); the grid is every combination'),
    repeat: z.number().int().min(1).max(100).default(1),
    plot: z
      .object({ x: z.string().optional(), series: z.string().optional() })
      .strict()
      .optional()
      .describe('which parameter is the x axis and which one draws one line per value (default: the first and second)'),
  })
  .strict();
export type SweepFile = z.infer<typeof SweepFile>;

export interface Parameter {
  path: string;
  values: unknown[];
}

export interface GridPoint {
  /** p01, p02, ... in the grid's order (last parameter varies fastest) */
  id: string;
  index: number;
  values: Record<string, unknown>;
  /** the cell's experiment, YAML */
  experiment: string;
}

export interface Cell {
  /** p01-r1 */
  id: string;
  point: GridPoint;
  rep: number;
}

export interface SweepPlan {
  name: string;
  file: string;
  experimentFile: string;
  parameters: Parameter[];
  set: Record<string, unknown>;
  repeat: number;
  plot: { x: string | null; series: string | null };
  points: GridPoint[];
  cells: Cell[];
  /** hash of what the cells run: a resumed sweep must match it */
  hash: string;
}

export const valueLabel = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
export const pointLabel = (values: Record<string, unknown>) =>
  Object.entries(values)
    .map(([p, v]) => `${p}=${valueLabel(v)}`)
    .join(', ');

function grid(params: Parameter[]): Array<Record<string, unknown>> {
  let out: Array<Record<string, unknown>> = [{}];
  for (const p of params) out = out.flatMap((g) => p.values.map((v) => ({ ...g, [p.path]: v })));
  return out;
}

const CELL_SOURCE = '@cell@';
const pad = (n: number, total: number) => String(n).padStart(String(total).length, '0');

export function loadSweep(file: string): SweepPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw badInput(`${file}: cannot read the sweep file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return planSweep(text, file);
}

/** Parse, expand and validate a sweep (YAML text; `file` locates the experiment). */
export function planSweep(text: string, file: string): SweepPlan {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw badInput(`${file}: YAML syntax error: ${(err as Error).message}`);
  }
  const r = SweepFile.safeParse(raw ?? {});
  if (!r.success) {
    throw badInput(r.error.issues.map((i) => `${file}: ${i.path.map(String).join('.') || '(document)'}: ${i.message}`).join('\n'), 'see "Sweeps" in topologies/README.md');
  }
  const s = r.data;
  const params: Parameter[] = Object.entries(s.parameters).map(([p, values]) => ({ path: p, values }));
  if (!params.length) throw badInput(`${file}: parameters: name at least one parameter`, 'see "Sweeps" in topologies/README.md');
  // a key may name several paths, "a, b": all of them take the value (the rate of both flows, the delay of every backhaul link)
  const paths = new Map<string, PathSeg[][]>();
  const problems: string[] = [];
  for (const p of [...Object.keys(s.set ?? {}), ...params.map((x) => x.path)]) {
    try {
      paths.set(p, p.split(/\s*,\s*/).map(parsePath));
    } catch (err) {
      problems.push(`${file}: ${p}: ${(err as Error).message}`);
    }
  }
  for (const p of params) {
    const labels = p.values.map(valueLabel);
    const dup = labels.find((l, i) => labels.indexOf(l) !== i);
    if (dup !== undefined) problems.push(`${file}: parameters.${p.path}: the value ${dup} is given twice`);
    if (s.set && p.path in s.set) problems.push(`${file}: ${p.path} is both in set and in parameters`);
  }
  const names = params.map((p) => p.path);
  for (const k of ['x', 'series'] as const) {
    const v = s.plot?.[k];
    if (v !== undefined && !names.includes(v)) problems.push(`${file}: plot.${k}: '${v}' is not one of the parameters (${names.join(', ')})`);
  }
  if (problems.length) throw badInput(problems.join('\n'), 'see "Sweeps" in topologies/README.md');

  const experimentFile = path.resolve(path.dirname(file), s.experiment);
  let baseText: string;
  try {
    baseText = readFileSync(experimentFile, 'utf8');
  } catch (err) {
    throw badInput(`${file}: experiment: cannot read ${experimentFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const base = parse(baseText) as unknown;

  const combos = grid(params);
  const points: GridPoint[] = [];
  const errors: string[] = [];
  combos.forEach((values, i) => {
    const id = `p${pad(i + 1, combos.length)}`;
    const doc = structuredClone(base);
    const where = `cell ${id} (${pointLabel(values)})`;
    try {
      for (const [p, v] of [...Object.entries(s.set ?? {}), ...Object.entries(values)]) {
        try {
          for (const one of paths.get(p) as PathSeg[][]) setPath(doc, one, structuredClone(v));
        } catch (err) {
          if (err instanceof PathError) throw badInput(`unknown path ${p}: ${err.message}`);
          throw err;
        }
      }
      const experiment = stringify(doc);
      // the same checks as `pmiplab run`: schema, references, address plan, scenario
      const topo = parseTopology(experiment, CELL_SOURCE);
      planTopology(topo, CELL_SOURCE, 'preview');
      points.push({ id, index: i, values, experiment });
    } catch (err) {
      if (!(err instanceof PmipError)) throw err;
      // the cell's YAML is generated: its line numbers mean nothing to the user, the paths do
      const msg = err.message.replace(/@cell@(:\d+:\d+)?: (\d+ problems\n)?/g, '').replace(/\n/g, `\n${where}: `);
      errors.push(`${where}: ${msg}`);
    }
  });
  if (errors.length) {
    // one message per distinct problem: the same bad value fails every cell it is in
    throw badInput(`${file}: ${errors.length} of ${combos.length} cells refused, nothing was run\n${errors.join('\n')}`, 'see "Sweeps" in topologies/README.md and the experiment format in the same file');
  }
  const cells = points.flatMap((p) => Array.from({ length: s.repeat }, (_, k) => ({ id: `${p.id}-r${k + 1}`, point: p, rep: k + 1 })));
  const hash = createHash('sha256')
    .update(JSON.stringify({ repeat: s.repeat, points: points.map((p) => [p.id, p.experiment]) }))
    .digest('hex')
    .slice(0, 16);
  return {
    name: s.name ?? path.basename(file).replace(/\.ya?ml$/, ''),
    file: path.resolve(file),
    experimentFile,
    parameters: params,
    set: s.set ?? {},
    repeat: s.repeat,
    plot: { x: s.plot?.x ?? names[0] ?? null, series: s.plot?.series ?? names.find((n) => n !== (s.plot?.x ?? names[0])) ?? null },
    points,
    cells,
    hash,
  };
}
