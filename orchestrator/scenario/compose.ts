import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

// An experiment made from a ready topology file with another scenario (and
// settings, and signaling impairment on its backhaul links): how the benchmark
// and the experiment tests reuse topologies/handover-basic.yaml instead of
// writing the domain out again. The result is YAML text, validated like any
// file when it is run.

export interface Composition {
  /** the scenario steps, as YAML text of a list or as objects */
  scenario: string | unknown[];
  /** merged over the file's settings */
  settings?: Record<string, unknown>;
  /** `signaling` of every backhaul link (a MAG and an LMA endpoint) */
  backhaulSignaling?: Record<string, unknown>;
  name?: string;
}

type Doc = {
  name?: string;
  topology?: { nodes?: Record<string, { kind?: string }>; links?: Array<{ endpoints?: string[]; signaling?: unknown }> };
  settings?: Record<string, unknown>;
  scenario?: unknown;
};

export function composeExperiment(baseFile: string, c: Composition): string {
  const doc = parse(readFileSync(baseFile, 'utf8')) as Doc;
  if (c.name) doc.name = c.name;
  doc.scenario = typeof c.scenario === 'string' ? ((parse(c.scenario) as unknown[] | null) ?? []) : c.scenario;
  if (c.settings) doc.settings = { ...(doc.settings ?? {}), ...c.settings };
  if (c.backhaulSignaling) {
    const kind = (ep: string) => doc.topology?.nodes?.[ep.split(':')[0] ?? '']?.kind;
    for (const l of doc.topology?.links ?? []) {
      const kinds = new Set((l.endpoints ?? []).map(kind));
      if (kinds.has('mag') && kinds.has('lma')) l.signaling = c.backhaulSignaling;
    }
  }
  return stringify(doc);
}
