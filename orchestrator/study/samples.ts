import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Metrics } from '../report/schema.js';

// What a study compares: per flow, one value per handover of each metric,
// read from a run's metrics.json (orchestrator/report/schema.ts).

export const STUDY_METRICS = [
  { key: 'gapMs', label: 'gap', unit: 'ms', what: 'longest time without arrivals around the L2 event' },
  { key: 'lost', label: 'loss', unit: 'probes', what: 'probes sent in the handover window and never received' },
  { key: 'addedDelayMs', label: 'added delay', unit: 'ms', what: "one-way delay p99 of the window's probes minus the flow's baseline p99 (before the first handover)" },
  { key: 'reordered', label: 'reordering', unit: 'probes', what: 'probes of the window that arrived after a later one' },
] as const;
export type MetricKey = (typeof STUDY_METRICS)[number]['key'];

/** flow -> metric -> one value per handover */
export type Samples = Record<string, Record<MetricKey, number[]>>;

const empty = (): Record<MetricKey, number[]> => ({ gapMs: [], lost: [], addedDelayMs: [], reordered: [] });

export function samplesOf(m: Metrics): Samples {
  const out: Samples = {};
  for (const f of m.flows) {
    const s = (out[f.flow] ??= empty());
    const base = f.baseline.delayMs?.p99 ?? null;
    for (const h of f.handovers) {
      if (h.gapMs !== null) s.gapMs.push(h.gapMs);
      if (h.lost !== null) s.lost.push(h.lost);
      if (h.delayMs && base !== null) s.addedDelayMs.push(Math.round((h.delayMs.p99 - base) * 1000) / 1000);
      s.reordered.push(h.reordered);
    }
  }
  return out;
}

/** Pool the samples of several runs (the repetitions of a grid point). */
export function pool(all: Samples[]): Samples {
  const out: Samples = {};
  for (const s of all) {
    for (const [flow, metrics] of Object.entries(s)) {
      const t = (out[flow] ??= empty());
      for (const k of Object.keys(metrics) as MetricKey[]) t[k].push(...metrics[k]);
    }
  }
  return out;
}

export function readMetrics(runDir: string): Metrics | null {
  const f = path.join(runDir, 'metrics.json');
  if (!existsSync(f)) return null;
  const r = Metrics.safeParse(JSON.parse(readFileSync(f, 'utf8')));
  return r.success ? r.data : null;
}
