import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { checkEvent } from '../../nodes/runtime/events.js';
import { asSamples, decodeSamples, type ReceiverSamples, type SenderSamples } from '../../nodes/traffic/samples.js';
import { readPlanFile, type Plan } from '../topology/plan.js';

// What the report reads from a run folder, each validated at the border:
// events.jsonl (every bus event, one per line), run.json (the runner's meta),
// topology.json (the Plan), flows/*.bin (samples of both ends of each flow).
// Anything missing or malformed becomes a warning, not a failure, so a
// half-finished run still gets a report of what it has.

const Dec = z.string().regex(/^\d+$/);

export const EventLine = z.object({
  node: z.string(),
  type: z.string(),
  tNs: Dec,
  data: z.unknown().optional(),
  replyTo: z.string().optional(),
  streamId: z.string().optional(),
});
export type EventLine = z.infer<typeof EventLine>;

/** data of an l2-move event (orchestrator/netns/links.ts L2Event) */
export const L2MoveData = z.object({
  node: z.string(),
  iface: z.string(),
  from: z.string(),
  to: z.string(),
  tStartNs: Dec,
  tDownNs: Dec.optional(),
  tUpNs: Dec.optional(),
});
export type L2MoveData = z.infer<typeof L2MoveData>;

/** run.json as the scenario runner writes it (orchestrator/scenario/experiment.ts RunMeta); read leniently. */
export const RunMetaFile = z.looseObject({
  name: z.string().optional(),
  runId: z.string().optional(),
  startedNs: Dec.optional(),
  endedNs: Dec.optional(),
  transport: z.string().optional(),
  dataPlane: z.string().optional(),
  signaling: z
    .array(z.looseObject({ link: z.string(), delayMs: z.number().default(0), lossPct: z.number().default(0), messages: z.array(z.string()).optional() }))
    .optional(),
  flows: z
    .array(z.looseObject({ flow: z.string(), from: z.string(), to: z.string(), rate: z.number().optional(), size: z.number().optional() }))
    .optional(),
});
export type RunMetaFile = z.infer<typeof RunMetaFile>;

export interface FlowFiles {
  flow: string;
  sender: (SenderSamples & { file: string }) | null;
  receiver: (ReceiverSamples & { file: string }) | null;
}

/** The capture of one MN interface (pcaps/<node>-<iface>.pcap), raw. */
export interface MnCapture {
  node: string;
  iface: string;
  file: string; // relative to the run folder
  bytes: Uint8Array;
}

export interface RunInputs {
  dir: string;
  /** absent: no captures read (the per-interface breakdown is left out) */
  captures?: MnCapture[];
  events: EventLine[];
  meta: RunMetaFile | null;
  plan: Plan | null;
  flows: FlowFiles[];
  warnings: string[];
}

export function readEvents(file: string, warnings: string[]): EventLine[] {
  if (!existsSync(file)) {
    warnings.push('no events.jsonl: no handovers or signaling timeline');
    return [];
  }
  const out: EventLine[] = [];
  let bad = 0;
  const offContract: string[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const line of lines) {
    if (!line.trim()) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      bad++;
      continue;
    }
    const r = EventLine.safeParse(raw);
    if (!r.success) {
      bad++;
      continue;
    }
    out.push(r.data);
    // kept (the report reads what it can), but counted: the emitter broke the event contract
    const c = checkEvent(r.data.type, r.data.data);
    if (!c.ok) offContract.push(c.issue);
  }
  if (bad) warnings.push(`events.jsonl: ${bad} malformed line(s) skipped`);
  if (offContract.length) warnings.push(`events.jsonl: ${offContract.length} event(s) not in the event contract, e.g. ${offContract[0]}`);
  return out;
}

function readJson<T>(file: string, schema: z.ZodType<T>, what: string, warnings: string[]): T | null {
  if (!existsSync(file)) {
    warnings.push(`no ${what}`);
    return null;
  }
  try {
    const r = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (r.success) return r.data;
    warnings.push(`${what}: ${r.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  } catch (err) {
    warnings.push(`${what}: ${(err as Error).message}`);
  }
  return null;
}

export function readFlows(dir: string, warnings: string[]): FlowFiles[] {
  const flowsDir = path.join(dir, 'flows');
  const byFlow = new Map<string, FlowFiles>();
  const names = existsSync(flowsDir) ? readdirSync(flowsDir).filter((n) => n.endsWith('.bin')).sort() : [];
  for (const name of names) {
    const rel = path.join('flows', name);
    const s = asSamples(decodeSamples(readFileSync(path.join(dir, rel))));
    if (!s.ok) {
      warnings.push(`${rel}: ${s.error}`);
      continue;
    }
    const flow = (s.sender ?? s.receiver)!.header.flow;
    const f = byFlow.get(flow) ?? { flow, sender: null, receiver: null };
    if (s.sender) f.sender = { ...s.sender, file: rel };
    if (s.receiver) f.receiver = { ...s.receiver, file: rel };
    byFlow.set(flow, f);
  }
  return [...byFlow.values()];
}

export function readRun(dir: string): RunInputs {
  const warnings: string[] = [];
  const events = readEvents(path.join(dir, 'events.jsonl'), warnings);
  const meta = readJson(path.join(dir, 'run.json'), RunMetaFile, 'run.json', warnings);
  let plan: Plan | null = null;
  const planFile = path.join(dir, 'topology.json');
  if (existsSync(planFile)) {
    try {
      plan = readPlanFile(planFile);
    } catch (err) {
      warnings.push((err as Error).message.split('\n')[0] ?? 'bad topology.json');
    }
  } else warnings.push('no topology.json');
  const flows = readFlows(dir, warnings);
  if (!flows.length) warnings.push('no traffic samples under flows/');
  return { dir, events, meta, plan, flows, captures: readMnCaptures(dir, plan, warnings), warnings };
}

/** The captures of every MN interface the plan names (a missing one: a warning, once). */
export function readMnCaptures(dir: string, plan: Plan | null, warnings: string[]): MnCapture[] {
  const out: MnCapture[] = [];
  const missing: string[] = [];
  for (const n of plan?.nodes ?? []) {
    if (n.kind !== 'mn') continue;
    for (const i of n.interfaces) {
      const rel = path.join('pcaps', `${n.name}-${i.name}.pcap`);
      const abs = path.join(dir, rel);
      if (existsSync(abs)) out.push({ node: n.name, iface: i.name, file: rel, bytes: readFileSync(abs) });
      else missing.push(`${n.name}:${i.name}`);
    }
  }
  if (missing.length) warnings.push(`no capture of ${missing.join(', ')}: the per-interface breakdown leaves ${missing.length > 1 ? 'them' : 'it'} out`);
  return out;
}
