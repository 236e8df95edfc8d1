import { networkPayload } from '../pcap/linktype.js';
import { readCapture } from '../pcap/capture.js';
import { parseIpv6 } from '../pcap/ipv6-parse.js';
import { NH, UDP_HEADER_LEN } from '../pcap/ipv6-format.js';
import { flowTag, PROBE_HEADER, PROBE_MAGIC } from '../../nodes/traffic/probe.js';

// Which MN interface carried which flow: the probes seen in the capture of
// each MN interface (runs/<id>/pcaps/<mn>-<iface>.pcap), matched to their
// flow by the probe's magic and flow tag (and the flow's UDP port when the
// run recorded it). A probe the MN received counts for the interface it
// arrived on; one it sent, for the interface it left by.
//
// Time: a capture stamps frames with the wall clock, the probe carries its
// send time on the monotonic clock every namespace shares. The offset between
// the two clocks is the smallest (wall stamp - send time) over every probe of
// the run: that probe's one-way delay (tens of µs) is the only error, the
// same for every interface.

export interface CaptureFlow {
  flow: string;
  port: number | null;
}

export interface ProbeSeen {
  flow: string;
  seq: number;
  txNs: bigint; // monotonic, from the probe
  wallNs: bigint; // capture stamp
}

/** Probes of the given flows in one capture's bytes; error when the file is not a readable capture. */
export function probesInCapture(bytes: Uint8Array, flows: CaptureFlow[]): { probes: ProbeSeen[]; error: string | null } {
  const cap = readCapture(bytes);
  if (!cap.ok) return { probes: [], error: `${cap.error.code} at ${cap.error.field}` };
  const byTag = new Map<number, CaptureFlow[]>();
  for (const f of flows) {
    const tag = flowTag(f.flow);
    byTag.set(tag, [...(byTag.get(tag) ?? []), f]);
  }
  const probes: ProbeSeen[] = [];
  for (const fr of cap.value.frames) {
    const net = networkPayload(fr.linktype, fr.data);
    if (!net.ok || net.value.proto !== 'ipv6') continue;
    const pkt = fr.data.subarray(net.value.offset);
    const ip = parseIpv6(pkt);
    if (!ip.ok || ip.value.nextHeader !== NH.udp || ip.value.fragment?.offset) continue;
    const u = ip.value.offset;
    const p = u + UDP_HEADER_LEN;
    if (ip.value.end - p < PROBE_HEADER) continue;
    const dv = new DataView(pkt.buffer, pkt.byteOffset, pkt.byteLength);
    if (dv.getUint16(p, false) !== PROBE_MAGIC) continue;
    const candidates = byTag.get(dv.getUint16(p + 2, false));
    if (!candidates) continue;
    const dport = dv.getUint16(u + 2, false);
    // a flow's probes go to its receiver's port (when the run recorded it)
    const f = candidates.find((c) => c.port === null || c.port === dport);
    if (!f) continue;
    probes.push({ flow: f.flow, seq: dv.getUint32(p + 4, false), txNs: dv.getBigUint64(p + 8, false), wallNs: fr.timestampNs });
  }
  return { probes, error: null };
}

export interface InterfaceCapture {
  node: string; // the MN
  iface: string;
  probes: ProbeSeen[];
}

export interface FlowEnds {
  flow: string;
  from: string | null;
  to: string | null;
}

/** One flow over one MN interface: distinct probes seen, and their times (ns since run start). */
export interface FlowOnInterface {
  flow: string;
  node: string;
  iface: string;
  direction: 'in' | 'out'; // in: the MN received the flow here; out: it sent it from here
  probes: number; // distinct sequence numbers
  copies: number; // frames (a probe seen twice counts twice)
  first: number;
  last: number;
  /** arrival (in) or departure (out) times, ns since run start, in capture order */
  times: Float64Array;
  seqs: Uint32Array;
}

/** The wall-to-monotonic offset (wall - mono, ns) from every probe seen, or null with none. */
export function clockOffset(caps: InterfaceCapture[]): bigint | null {
  let best: bigint | null = null;
  for (const c of caps) for (const p of c.probes) if (best === null || p.wallNs - p.txNs < best) best = p.wallNs - p.txNs;
  return best;
}

/**
 * Per flow and MN interface: what the interface carried. `base` is the run's
 * time zero (monotonic ns). A flow counts on an interface of its own MN only
 * (direction from the flow's ends); both ends at MNs count at both.
 */
export function flowsOnInterfaces(caps: InterfaceCapture[], flows: FlowEnds[], base: bigint): FlowOnInterface[] {
  const offset = clockOffset(caps);
  if (offset === null) return [];
  const ends = new Map(flows.map((f) => [f.flow, f]));
  const out: FlowOnInterface[] = [];
  for (const c of caps) {
    const byFlow = new Map<string, ProbeSeen[]>();
    for (const p of c.probes) {
      const a = byFlow.get(p.flow);
      if (a) a.push(p);
      else byFlow.set(p.flow, [p]);
    }
    for (const [flow, ps] of [...byFlow].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const f = ends.get(flow);
      const direction = f?.to === c.node ? 'in' : f?.from === c.node ? 'out' : null;
      if (!direction) continue;
      const times = Float64Array.from(ps, (p) => Number(p.wallNs - offset - base));
      const seqs = Uint32Array.from(ps, (p) => p.seq);
      let first = Infinity;
      let last = -Infinity;
      for (const t of times) {
        if (t < first) first = t;
        if (t > last) last = t;
      }
      out.push({ flow, node: c.node, iface: c.iface, direction, probes: new Set(seqs).size, copies: ps.length, first, last, times, seqs });
    }
  }
  return out.sort((a, b) => (a.flow < b.flow ? -1 : a.flow > b.flow ? 1 : a.iface < b.iface ? -1 : 1));
}

/** Probes per time bin per (flow, interface): the plot's series. */
export function binnedRates(rows: FlowOnInterface[], lo: number, hi: number, bins: number): Array<{ flow: string; iface: string; t: number; pps: number }> {
  if (!(hi > lo) || bins < 1) return [];
  const width = (hi - lo) / bins;
  const out: Array<{ flow: string; iface: string; t: number; pps: number }> = [];
  for (const r of rows) {
    const counts = new Uint32Array(bins);
    for (const t of r.times) {
      const b = Math.floor((t - lo) / width);
      if (b >= 0 && b < bins) counts[b]!++;
    }
    const label = `${r.node}:${r.iface} (${r.direction})`;
    for (let b = 0; b < bins; b++) out.push({ flow: r.flow, iface: label, t: (lo + (b + 0.5) * width) / 1e9, pps: Math.round((counts[b]! / width) * 1e9 * 10) / 10 });
  }
  return out;
}
