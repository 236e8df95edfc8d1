import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeMessage, type Message } from '../../nodes/protocol/index.js';
import { extractMobilityHeaders } from '../pcap/index.js';
import { readEvents } from '../report/inputs.js';
import { readMetrics } from './samples.js';

// Message sequence charts (ladder diagrams) of a run's signaling, from its
// pcaps: every Mobility Header seen on an LMA or MAG interface, decoded by
// the codec, each message matched between the capture at its sender and the
// one at its receiver (same addresses and bytes), so an arrow starts when the
// message left and ends when it arrived. Capture times are CLOCK_REALTIME;
// the events' are CLOCK_MONOTONIC: the offset is the median difference
// between a MAG's pbu-sent events and the same PBUs (sequence number) in its
// own capture (less any signaling delay the PBU waited in user space before
// the send), so the arrows sit on the run's time axis, per handover.

export interface LadderArrow {
  kind: string;
  label: string;
  from: string;
  to: string;
  sequence: number | null;
  /** capture times (ns since the epoch) at the sender's and the receiver's interface; null: not captured there */
  txNs: bigint | null;
  rxNs: bigint | null;
  /** the pcap files they were read from */
  txFile: string | null;
  rxFile: string | null;
}

export interface Ladder {
  lanes: string[];
  arrows: LadderArrow[];
  /** realtime - monotonic, ns (null: no pbu-sent event matched a captured PBU) */
  clockOffsetNs: bigint | null;
  /** handovers: index, L2 event (monotonic ns), label */
  handovers: Array<{ index: number; tNs: bigint; label: string }>;
  problems: string[];
}

const KIND_LABEL: Record<string, string> = { pbu: 'PBU', pba: 'PBA', heartbeat: 'Heartbeat', bindingError: 'BE', updateNotification: 'UPN', updateNotificationAck: 'UPA', handoverInitiate: 'HI', handoverAck: 'HAck', shi: 'SHI', shia: 'SHIA' };

function describe(m: Message): { label: string; sequence: number | null } {
  const v = m as Message & { sequence?: number; lifetime?: number; status?: number };
  const seq = typeof v.sequence === 'number' ? v.sequence : null;
  const parts = [KIND_LABEL[m.kind] ?? m.kind];
  if (seq !== null) parts.push(`#${seq}`);
  if (m.kind === 'pbu') parts.push(v.lifetime === 0 ? 'dereg' : `lt ${(v.lifetime ?? 0) * 4}s`);
  if (m.kind === 'pba') parts.push(`st ${v.status ?? '?'}${v.lifetime === 0 ? ' dereg' : ''}`);
  return { label: parts.join(' '), sequence: seq };
}

interface PlanLike {
  nodes: Array<{ name: string; kind: string; interfaces: Array<{ name: string; addresses: string[] }> }>;
  links?: Array<{ endpoints: Array<{ node: string }>; signaling?: { delayMs: number; messages?: string[] } }>;
}

/**
 * The signaling delay a node's PBUs wait in user space before they are sent
 * (a link's `signaling.delay`, nodes/runtime/mh-transport.ts): between the
 * pbu-sent event and the wire, so the clock offset must not count it.
 */
export function pbuSendDelayNs(plan: PlanLike, node: string): bigint {
  const l = (plan.links ?? []).find((x) => x.signaling && x.signaling.delayMs > 0 && x.endpoints.some((e) => e.node === node) && (!x.signaling.messages || x.signaling.messages.includes('pbu')));
  return l?.signaling ? BigInt(Math.round(l.signaling.delayMs * 1e6)) : 0n;
}

interface Seen {
  key: string;
  node: string;
  file: string;
  ts: bigint;
  src: string;
  dst: string;
  msg: Message;
}

export function buildLadder(runDir: string): Ladder {
  const problems: string[] = [];
  const plan = JSON.parse(readFileSync(path.join(runDir, 'topology.json'), 'utf8')) as PlanLike;
  const owner = new Map<string, string>();
  for (const n of plan.nodes) for (const i of n.interfaces) for (const a of i.addresses) owner.set(a.split('/')[0] as string, n.name);
  const agents = plan.nodes.filter((n) => n.kind === 'lma' || n.kind === 'mag');
  const pcaps = path.join(runDir, 'pcaps');
  const sent: Seen[] = [];
  const received: Seen[] = [];
  for (const n of agents) {
    for (const i of n.interfaces) {
      const file = path.join(pcaps, `${n.name}-${i.name}.pcap`);
      if (!existsSync(file)) continue;
      const ex = extractMobilityHeaders(readFileSync(file));
      if (!ex.ok) {
        problems.push(`${path.basename(file)}: ${ex.error.code} at ${ex.error.field}`);
        continue;
      }
      const counts = new Map<string, number>();
      for (const p of ex.value) {
        const d = decodeMessage(p.mh);
        if (!d.ok) {
          problems.push(`${path.basename(file)} frame ${p.index + 1}: ${d.error.code} at ${d.error.field}`);
          continue;
        }
        const base = `${p.src}|${p.dst}|${Buffer.from(p.mh).toString('hex')}`;
        const k = (counts.get(base) ?? 0) + 1;
        counts.set(base, k);
        const seen: Seen = { key: `${base}|${k}`, node: n.name, file: path.basename(file), ts: p.timestampNs, src: p.src, dst: p.dst, msg: d.value };
        if (owner.get(p.src) === n.name) sent.push(seen);
        else if (owner.get(p.dst) === n.name) received.push(seen);
      }
    }
  }
  const rxByKey = new Map(received.map((r) => [r.key, r]));
  const arrows: LadderArrow[] = [];
  const used = new Set<string>();
  for (const s of sent) {
    const r = rxByKey.get(s.key);
    if (r) used.add(r.key);
    const d = describe(s.msg);
    arrows.push({ kind: s.msg.kind, ...d, from: s.node, to: owner.get(s.dst) ?? s.dst, txNs: s.ts, rxNs: r?.ts ?? null, txFile: s.file, rxFile: r?.file ?? null });
  }
  // received but not captured at the sender (its capture started later, or it is no agent)
  for (const r of received) {
    if (used.has(r.key)) continue;
    arrows.push({ kind: r.msg.kind, ...describe(r.msg), from: owner.get(r.src) ?? r.src, to: r.node, txNs: null, rxNs: r.ts, txFile: null, rxFile: r.file });
  }
  arrows.sort((a, b) => Number((a.txNs ?? a.rxNs ?? 0n) - (b.txNs ?? b.rxNs ?? 0n)));

  // clock offset: pbu-sent events against the same PBUs in the sender's capture
  const offsets: bigint[] = [];
  const events = existsSync(path.join(runDir, 'events.jsonl')) ? readEvents(path.join(runDir, 'events.jsonl'), problems) : [];
  for (const e of events) {
    if (e.type !== 'pbu-sent') continue;
    const seq = Number((e.data as { seq?: unknown } | undefined)?.seq);
    const a = arrows.find((x) => x.kind === 'pbu' && x.from === e.node && x.sequence === seq && x.txNs !== null);
    if (a?.txNs != null) offsets.push(a.txNs - BigInt(e.tNs) - pbuSendDelayNs(plan, e.node));
  }
  offsets.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const clockOffsetNs = offsets.length ? (offsets[Math.floor(offsets.length / 2)] as bigint) : null;
  const m = readMetrics(runDir);
  const handovers = (m?.handovers ?? []).map((h) => ({ index: h.index, tNs: BigInt(h.tNs), label: `#${h.index} ${h.from}→${h.to}` }));

  const mags = agents.filter((n) => n.kind === 'mag').map((n) => n.name);
  const lmas = agents.filter((n) => n.kind === 'lma').map((n) => n.name);
  const half = Math.ceil(mags.length / 2);
  return { lanes: [...mags.slice(0, half), ...lmas, ...mags.slice(half)], arrows, clockOffsetNs, handovers, problems };
}

export interface LadderRow {
  ho: string;
  from: number;
  to: number;
  txMs: number;
  rxMs: number;
  label: string;
  kind: string;
  lost: boolean;
}

/**
 * Arrows per handover, in ms after its L2 event (monotonic): from the event
 * to the next one (at most `horizonMs`); the signaling before the first
 * handover is the registration. Heartbeats are left out (they are periodic).
 */
export function ladderRows(l: Ladder, horizonMs = 1000): LadderRow[] {
  if (l.clockOffsetNs === null) return [];
  const lane = (n: string) => l.lanes.indexOf(n);
  const rows: LadderRow[] = [];
  const windows = l.handovers.map((h, i) => ({ label: h.label, lo: h.tNs, hi: l.handovers[i + 1]?.tNs ?? h.tNs + BigInt(horizonMs) * 1_000_000n }));
  for (const a of l.arrows) {
    if (a.kind === 'heartbeat') continue;
    const t = (a.txNs ?? a.rxNs) as bigint;
    const mono = t - l.clockOffsetNs;
    const w = windows.find((x) => mono >= x.lo && mono < x.hi && mono - x.lo < BigInt(horizonMs) * 1_000_000n);
    if (!w) continue;
    const ms = (v: bigint) => Number(v - l.clockOffsetNs! - w.lo) / 1e6;
    const tx = a.txNs !== null ? ms(a.txNs) : ms(a.rxNs as bigint);
    const rx = a.rxNs !== null ? ms(a.rxNs) : tx;
    if (lane(a.from) < 0 || lane(a.to) < 0) continue;
    rows.push({ ho: w.label, from: lane(a.from), to: lane(a.to), txMs: tx, rxMs: rx, label: a.label, kind: a.kind, lost: a.rxNs === null });
  }
  return rows;
}

/** Pcap files of the run that hold signaling (for a listing). */
export const ladderFiles = (runDir: string) => (existsSync(path.join(runDir, 'pcaps')) ? readdirSync(path.join(runDir, 'pcaps')).filter((f) => f.endsWith('.pcap')) : []);
