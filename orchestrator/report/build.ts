import type { PlanNode } from '../topology/plan.js';
import type { FlowFiles, RunInputs, RunMetaFile } from './inputs.js';
import { L2MoveData } from './inputs.js';
import { DEFAULT_METRIC_OPTIONS, flowMetrics, type FlowSeries, type MetricOptions, type Move } from './metrics.js';
import { flowsOnInterfaces, probesInCapture, type FlowOnInterface, type InterfaceCapture } from './interfaces.js';
import { METRICS_SCHEMA, Metrics, type Handover, type StageTables } from './schema.js';
import { stagesOf, type StageNames } from './stages.js';
import { timelineOf, type TimedEvent } from './timeline.js';

// From the run's inputs to metrics.json: time zero, the handovers (the L2
// events of MN interfaces: l2-move, l2-down, l2-up), each flow's metrics against the handovers of its two nodes, and
// each handover's signaling timeline.

export interface BuiltMetrics {
  metrics: Metrics;
  /** the series behind the metrics, for the plots (ns since run start) */
  series: FlowSeries[];
  moves: Move[];
  base: bigint;
  /** per flow and MN interface, with the times behind the plot */
  onInterfaces: FlowOnInterface[];
}

type L2Kind = NonNullable<Move['kind']>;
const L2_KINDS: Record<string, L2Kind | undefined> = { 'l2-move': 'move', 'l2-down': 'detach', 'l2-up': 'attach' };
/** the MAG side of a detach (to) or an attach (from) */
export const NO_MAG = 'none';

const big = (s: string | undefined) => (s === undefined ? undefined : BigInt(s));

function signalingNote(meta: RunMetaFile | null): string | null {
  const imp = (meta?.signaling ?? []).filter((s) => s.delayMs > 0 || s.lossPct > 0);
  if (!imp.length) return null;
  const parts = imp.map((s) => `${s.link}: ${[s.delayMs > 0 ? `delay ${s.delayMs} ms` : '', s.lossPct > 0 ? `loss ${s.lossPct}%` : ''].filter(Boolean).join(', ')}${s.messages?.length ? ` (${s.messages.join(', ')})` : ''}`);
  return `${parts.join('; ')}: applied in user space, to signaling only (the data plane is not delayed)`;
}

export function buildMetrics(inp: RunInputs, opts: MetricOptions = DEFAULT_METRIC_OPTIONS): BuiltMetrics {
  const warnings = [...inp.warnings];
  // time zero: the scenario's start, else the earliest thing we know of
  const candidates: bigint[] = [];
  const started = big(inp.meta?.startedNs);
  if (started !== undefined) candidates.push(started);
  else {
    for (const e of inp.events.slice(0, 1)) candidates.push(BigInt(e.tNs));
    for (const f of inp.flows) {
      if (f.sender?.txNs.length) candidates.push(f.sender.txNs[0] as bigint);
      if (f.receiver) candidates.push(BigInt(f.receiver.header.startNs));
    }
  }
  const base = candidates.length ? candidates.reduce((a, b) => (b < a ? b : a)) : 0n;
  const rel = (ns: bigint) => Number(ns - base);

  const events: TimedEvent[] = inp.events
    .map((e) => ({ node: e.node, type: e.type, t: rel(BigInt(e.tNs)), data: (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Record<string, unknown> }))
    .sort((a, b) => a.t - b.t);

  // handovers: the L2 events of MN interfaces, by the time they started: a
  // move, and (seed 001: another interface may carry on) a detach or attach
  const l2: Array<L2MoveData & { t: number; kind: L2Kind }> = [];
  let badMoves = 0;
  for (const e of inp.events) {
    const kind = L2_KINDS[e.type];
    if (!kind) continue;
    const d = L2MoveData.safeParse(e.data);
    if (!d.success) {
      badMoves++;
      continue;
    }
    // the runner fills both MAG fields with the one the interface is on; a time of 0 is "not this edge"
    const x = { ...d.data, kind, t: rel(BigInt(d.data.tStartNs)) };
    if (kind === 'detach') x.to = NO_MAG;
    if (kind === 'attach') x.from = NO_MAG;
    if (x.tDownNs === '0') delete x.tDownNs;
    if (x.tUpNs === '0') delete x.tUpNs;
    l2.push(x);
  }
  if (badMoves) warnings.push(`${badMoves} L2 event(s) (l2-move, l2-down, l2-up) without the L2Event fields skipped`);
  l2.sort((a, b) => a.t - b.t);
  const moves: Move[] = l2.map((m, i) => ({ index: i + 1, node: m.node, iface: m.iface, from: m.from, to: m.to, t: m.t, kind: m.kind }));

  const planNode = (name: string): PlanNode | undefined => inp.plan?.nodes.find((n) => n.name === name);
  const lmaNodes = new Set((inp.plan?.nodes ?? []).filter((n) => n.kind === 'lma').map((n) => n.name));

  const series = flowSeries(inp.flows, inp.meta, rel, warnings);
  const onInterfaces = interfaceBreakdown(inp, base, warnings);
  const flows = series.map((f) => {
    const fm = flowMetrics(f, movesOfFlow(f, moves, onInterfaces), opts);
    fm.interfaces = onInterfaces
      .filter((r) => r.flow === f.flow)
      .map((r) => ({ node: r.node, iface: r.iface, direction: r.direction, probes: r.probes, copies: r.copies, firstS: sec(r.first), lastS: sec(r.last) }));
    return fm;
  });

  const handovers: Handover[] = moves.map((m, k) => {
    const src = l2[k]!;
    const until = Math.min(k + 1 < moves.length ? moves[k + 1]!.t : Infinity, m.t + opts.timelineHorizonMs * 1e6);
    const pn = planNode(m.node);
    const mnId = pn?.kind === 'mn' ? pn.options.mnId : undefined;
    const tl = timelineOf(
      events,
      {
        from: m.from,
        to: m.to,
        node: m.node,
        mnId: typeof mnId === 'string' ? mnId : null,
        t: m.t,
        tDown: src.tDownNs ? rel(BigInt(src.tDownNs)) : null,
        tUp: src.tUpNs ? rel(BigInt(src.tUpNs)) : null,
      },
      until,
      lmaNodes,
    );
    const firstPacket: Record<string, number | null> = {};
    for (const f of flows) {
      const h = f.handovers.find((x) => x.index === m.index);
      if (h) firstPacket[f.flow] = h.gapEndMs;
    }
    return { index: m.index, kind: m.kind ?? 'move', node: m.node, iface: m.iface, from: m.from, to: m.to, tNs: src.tStartNs, atS: Math.round(m.t / 1e6) / 1e3, timeline: { ...tl, firstPacket } };
  });

  const stages = stageTables(inp, events, base, warnings);

  const metrics: Metrics = {
    schema: METRICS_SCHEMA,
    run: {
      name: inp.meta?.name ?? inp.plan?.name ?? null,
      runId: inp.meta?.runId ?? inp.plan?.runId ?? null,
      startNs: base.toString(),
      dataPlane: inp.meta?.dataPlane ?? null,
      transport: inp.meta?.transport ?? null,
      signalingImpairment: signalingNote(inp.meta),
      generatedAt: new Date().toISOString(),
    },
    definitions: { preMs: opts.preMs, gapHorizonMs: opts.gapHorizonMs, timelineHorizonMs: opts.timelineHorizonMs },
    handovers,
    flows,
    stages,
    warnings,
  };
  return { metrics: Metrics.parse(metrics), series, moves, base, onInterfaces };
}

/**
 * The moves a flow pays for: those of its own two nodes (all moves when its
 * ends are unknown), and at an MN whose captures show which of its
 * interfaces carried the flow, only the moves of those interfaces (a flow on
 * wlan0 does not pay for lte0 changing MAG).
 */
export function movesOfFlow(f: Pick<FlowSeries, 'flow' | 'from' | 'to'>, moves: Move[], onInterfaces: FlowOnInterface[]): Move[] {
  const ends = [f.from, f.to].filter((x): x is string => x !== null);
  if (!ends.length) return moves;
  const carried = new Map<string, Set<string>>();
  for (const r of onInterfaces) if (r.flow === f.flow) (carried.get(r.node) ?? carried.set(r.node, new Set()).get(r.node))!.add(r.iface);
  return moves.filter((m) => ends.includes(m.node) && (carried.get(m.node)?.has(m.iface) ?? true));
}

const sec = (ns: number) => Math.round(ns / 1e3) / 1e6;

function interfaceBreakdown(inp: RunInputs, base: bigint, warnings: string[]): FlowOnInterface[] {
  const caps = inp.captures ?? [];
  if (!caps.length) return [];
  const names = new Set([...inp.flows.map((f) => f.flow), ...(inp.meta?.flows ?? []).map((f) => f.flow)]);
  const flows = [...names].map((flow) => {
    const cfg = inp.meta?.flows?.find((x) => x.flow === flow);
    const port = typeof cfg?.port === 'number' ? cfg.port : null;
    const f = inp.flows.find((x) => x.flow === flow);
    return { flow, port, from: cfg?.from ?? f?.sender?.header.node ?? null, to: cfg?.to ?? f?.receiver?.header.node ?? null };
  });
  const seen: InterfaceCapture[] = [];
  for (const c of caps) {
    const r = probesInCapture(c.bytes, flows);
    if (r.error) warnings.push(`${c.file}: not a readable capture (${r.error})`);
    else seen.push({ node: c.node, iface: c.iface, probes: r.probes });
  }
  return flowsOnInterfaces(seen, flows, base);
}

const PlannedStepShape = (s: Record<string, unknown>) =>
  typeof s.atMs === 'number' && typeof s.source === 'string' && typeof s.action === 'object' && s.action !== null
    ? { atMs: s.atMs, source: s.repetition !== undefined ? `${s.source}#${String(s.repetition)}` : s.source, action: s.action as Record<string, unknown> }
    : null;

function stageTables(inp: RunInputs, events: TimedEvent[], base: bigint, warnings: string[]): StageTables[] {
  const plan = inp.plan;
  if (!plan) return [];
  const steps = plan.scenario.map(PlannedStepShape).filter((s) => s !== null);
  if (steps.length < plan.scenario.length) warnings.push(`topology.json: ${plan.scenario.length - steps.length} scenario step(s) without atMs/source/action left out of the stages`);
  const rel = (ns: bigint) => Number(ns - base);
  const startEv = events.find((e) => e.type === 'scenario-start');
  const endEv = events.find((e) => e.type === 'scenario-end');
  const start = startEv?.t ?? (inp.meta?.startedNs ? rel(BigInt(inp.meta.startedNs)) : 0);
  const end = endEv?.t ?? (inp.meta?.endedNs ? rel(BigInt(inp.meta.endedNs)) : (events[events.length - 1]?.t ?? start));
  // llId -> MN interface, pCoA -> MAG, from the plan
  const llIds = new Map<string, string>();
  for (const n of plan.nodes) {
    if (n.kind !== 'mn') continue;
    const mnId = typeof n.options.mnId === 'string' ? n.options.mnId : null;
    const ifs = (n.options.interfaces ?? {}) as Record<string, { llId?: unknown }>;
    for (const [iface, spec] of Object.entries(ifs)) if (mnId && typeof spec?.llId === 'string') llIds.set(`${mnId}|${spec.llId.toLowerCase()}`, iface);
  }
  const pcoas = new Map<string, string>();
  for (const n of plan.nodes) if (n.kind === 'mag' && typeof n.options.proxyCoa === 'string') pcoas.set(n.options.proxyCoa, n.name);
  const names: StageNames = {
    ifaceOfLlId: (mnId, llId) => llIds.get(`${mnId}|${llId.toLowerCase()}`) ?? null,
    magOfPcoa: (pCoA) => pcoas.get(pCoA) ?? null,
  };
  return stagesOf(events, steps, start, end, names).map((s) => ({ index: s.index, label: s.label, atS: sec(s.t), steps: s.steps, bindingCache: s.bindingCache, bul: s.bul }));
}

function flowSeries(files: FlowFiles[], meta: RunMetaFile | null, rel: (ns: bigint) => number, warnings: string[]): FlowSeries[] {
  const names = new Set([...files.map((f) => f.flow), ...(meta?.flows ?? []).map((f) => f.flow)]);
  return [...names].sort().map((name) => {
    const f = files.find((x) => x.flow === name);
    const cfg = meta?.flows?.find((x) => x.flow === name);
    const s = f?.sender ?? null;
    const r = f?.receiver ?? null;
    if (!s) warnings.push(`flow ${name}: no sender samples (losses unknown)`);
    if (!r) warnings.push(`flow ${name}: no receiver samples (nothing counted as received)`);
    const toF64 = (a: BigUint64Array) => Float64Array.from(a, (x) => rel(x));
    return {
      flow: name,
      from: cfg?.from ?? s?.header.node ?? null,
      to: cfg?.to ?? r?.header.node ?? null,
      rate: cfg?.rate ?? s?.header.rate ?? null,
      size: cfg?.size ?? s?.header.size ?? null,
      files: { sender: s?.file ?? null, receiver: r?.file ?? null },
      sent: s ? { seq: s.seq, tx: toF64(s.txNs), failed: s.status, ...(s.header.maxLagMs !== undefined ? { maxLagMs: s.header.maxLagMs } : {}) } : null,
      recv: r
        ? { seq: r.seq, tx: toF64(r.txNs), rx: toF64(r.rxNs), strays: r.header.strays ?? 0, start: rel(BigInt(r.header.startNs)), stop: rel(BigInt(r.header.stopNs)) }
        : null,
    };
  });
}
