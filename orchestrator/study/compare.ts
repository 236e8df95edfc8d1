import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { badInput } from '../errors.js';
import { writeReport } from '../report/index.js';
import { RUN_ID_RE, runPaths } from '../run/paths.js';
import { planIdentity } from './provenance.js';
import { pool, readMetrics, samplesOf, STUDY_METRICS, type MetricKey, type Samples } from './samples.js';
import { difference, medianCi, type Difference, type MedianCi } from './stats.js';
import { pointLabel } from './sweep-file.js';
import { readState, sweepPaths } from './sweep-state.js';

// `pmiplab compare`: runs (or the grid points of sweeps) side by side. Each
// argument is a run folder (or id) or a sweep folder; a sweep gives one group
// per grid point with its repetitions pooled. For every pair of groups and
// every flow they share, the per-handover values are tested for a
// difference; the resolved plans (topology.json) say which settings differ.

export interface Group {
  /** short: the run id, or the sweep's name and grid point */
  label: string;
  /** what it is: the run's name, or the grid point's values */
  detail: string;
  dir: string;
  runs: number;
  samples: Samples;
  /** the resolved plan, with what only names the run (id, namespaces, source) taken out */
  plan: unknown;
}

export interface PairTest extends Difference {
  a: string;
  b: string;
  flow: string;
  metric: MetricKey;
  /** Holm-adjusted over all pairs and flows of the metric */
  pHolm: number | null;
}

export interface Comparison {
  groups: Group[];
  summaries: Array<{ group: string; flow: string; metric: MetricKey } & MedianCi>;
  tests: PairTest[];
  /** settings that are not the same in every group: path -> value per group (undefined: absent) */
  settings: Array<{ path: string; values: unknown[] }>;
}

function runDirOf(arg: string): string {
  if (existsSync(arg) && statSync(arg).isDirectory()) return path.resolve(arg);
  if (RUN_ID_RE.test(arg) && existsSync(runPaths(arg).dir)) return runPaths(arg).dir;
  throw badInput(`no run or sweep folder '${arg}'`, 'give run folders (runs/<id>, a sweep cell) or ids, or sweep folders');
}

/** The plan without what differs between any two runs of the same file. */
export function normalizedPlan(dir: string): unknown {
  const f = path.join(dir, 'topology.json');
  return existsSync(f) ? planIdentity(JSON.parse(readFileSync(f, 'utf8'))) : null;
}

async function metricsOf(dir: string) {
  let m = readMetrics(dir);
  if (!m && existsSync(path.join(dir, 'events.jsonl'))) m = (await writeReport(dir)).metrics;
  if (!m) throw badInput(`${dir} has no metrics.json and no events to make one from`, 'is it the folder of a finished run?');
  return m;
}

export async function loadGroups(args: string[]): Promise<Group[]> {
  const groups: Group[] = [];
  for (const arg of args) {
    const dir = runDirOf(arg);
    if (existsSync(sweepPaths(dir).state)) {
      const st = readState(dir);
      for (const p of st.points) {
        const cells = st.cells.filter((c) => c.point === p.id && c.status === 'ok').map((c) => sweepPaths(dir).cell(c.id));
        const ms = cells.map(readMetrics).filter((m) => m !== null);
        if (!ms.length) continue;
        groups.push({ label: `${st.name} ${p.id}`, detail: pointLabel(p.values), dir, runs: ms.length, samples: pool(ms.map(samplesOf)), plan: normalizedPlan(cells[0] as string) });
      }
    } else {
      const m = await metricsOf(dir);
      groups.push({ label: m.run.runId ?? path.basename(dir), detail: `run of ${m.run.name ?? '?'} (${path.basename(dir)})`, dir, runs: 1, samples: samplesOf(m), plan: normalizedPlan(dir) });
    }
  }
  // two arguments naming the same run must stay apart on the page
  const seen = new Map<string, number>();
  for (const g of groups) {
    const n = (seen.get(g.label) ?? 0) + 1;
    seen.set(g.label, n);
    if (n > 1) g.label = `${g.label} #${n}`;
  }
  if (groups.length < 2) throw badInput(`compare needs at least two runs or grid points (got ${groups.length})`);
  return groups;
}

function flatten(v: unknown, prefix: string, out: Map<string, string>): void {
  if (Array.isArray(v)) v.forEach((x, i) => flatten(x, `${prefix}[${i}]`, out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  else out.set(prefix, JSON.stringify(v));
}

export function settingsDiff(plans: unknown[]): Comparison['settings'] {
  const flat = plans.map((p) => {
    const m = new Map<string, string>();
    if (p !== null) flatten(p, '', m);
    return m;
  });
  const keys = new Set(flat.flatMap((m) => [...m.keys()]));
  const out: Comparison['settings'] = [];
  for (const k of keys) {
    const vals = flat.map((m) => m.get(k));
    if (new Set(vals).size > 1) out.push({ path: k, values: vals.map((v) => (v === undefined ? undefined : JSON.parse(v))) });
  }
  return out;
}

/** Holm's step-down adjustment (family: the values given). */
export function holm(ps: Array<number | null>): Array<number | null> {
  const idx = ps.map((p, i) => [p, i] as const).filter((x): x is readonly [number, number] => x[0] !== null).sort((a, b) => a[0] - b[0]);
  const out: Array<number | null> = ps.map(() => null);
  let running = 0;
  idx.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (idx.length - rank) * p));
    out[i] = running;
  });
  return out;
}

export function compareGroups(groups: Group[]): Comparison {
  const summaries: Comparison['summaries'] = [];
  for (const g of groups) for (const [flow, s] of Object.entries(g.samples)) for (const m of STUDY_METRICS) summaries.push({ group: g.label, flow, metric: m.key, ...medianCi(s[m.key]) });
  const tests: PairTest[] = [];
  for (const m of STUDY_METRICS) {
    const family: PairTest[] = [];
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        const A = groups[i] as Group;
        const B = groups[j] as Group;
        for (const flow of Object.keys(A.samples).filter((f) => f in B.samples)) {
          family.push({ a: A.label, b: B.label, flow, metric: m.key, ...difference(A.samples[flow]![m.key], B.samples[flow]![m.key]), pHolm: null });
        }
      }
    }
    holm(family.map((t) => t.p)).forEach((p, k) => ((family[k] as PairTest).pHolm = p));
    tests.push(...family);
  }
  return { groups, summaries, tests, settings: settingsDiff(groups.map((g) => g.plan)) };
}
