import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadTopology } from '../../../orchestrator/topology/load.js';
import { planTopology } from '../../../orchestrator/topology/planner.js';
import { RECEIVER_COLUMNS, SENDER_COLUMNS, encodeSamples } from '../../../nodes/traffic/samples.js';
import { probePcap, type ProbeFrame } from './probe-frames.js';

// A run folder made of known numbers, as the runner and the nodes would
// leave it: two flows at `rate` pps for `seconds`, a move every `every` s
// from `firstAt` s, each losing `outageMs` of probes from the L2 event on,
// and the signaling events of each move at fixed offsets.

export interface SyntheticRun {
  dir: string;
  t0: bigint;
  moves: number[]; // ms after t0
  outageMs: number;
  /** signaling offsets after each L2 event, ms */
  offsets: Record<string, number>;
}

/** wall clock minus monotonic clock of the synthetic machine (captures stamp frames with the wall clock) */
export const SYNTHETIC_WALL_OFFSET = 1_764_000_000_000_000_000n;

export function makeSyntheticRun(
  dir: string,
  opts: { rate?: number; seconds?: number; moves?: number; everyMs?: number; outageMs?: number; delayUs?: number; impaired?: boolean; capture?: boolean } = {},
): SyntheticRun {
  const rate = opts.rate ?? 1000;
  const seconds = opts.seconds ?? 8;
  const outageMs = opts.outageMs ?? 30;
  const delayNs = BigInt((opts.delayUs ?? 80) * 1000);
  const t0 = 10_000_000_000_000n; // an arbitrary monotonic time
  const ns = (ms: number) => t0 + BigInt(Math.round(ms * 1e6));
  const moves = Array.from({ length: opts.moves ?? 3 }, (_, i) => 2000 + i * (opts.everyMs ?? 1500) + 0.25);
  const offsets = { l2Down: 0.2, l2Up: 0.9, mnAttach: 1.0, rs: 1.4, pbuSent: 1.6, pbuReceived: 1.8, pbaSent: 2.1, pbaReceived: 2.3, routesProgrammed: 2.9, raSent: 3.2 };
  mkdirSync(path.join(dir, 'flows'), { recursive: true });
  const plan = planTopology(loadTopology('topologies/handover-basic.yaml'), path.resolve('topologies/handover-basic.yaml'), 'syn1');
  writeFileSync(path.join(dir, 'topology.json'), JSON.stringify(plan));
  const mn1 = plan.nodes.find((n) => n.name === 'mn1')!;
  const mnId = mn1.kind === 'mn' ? mn1.options.mnId : '';

  const lostAt = (txMs: number) => moves.some((m) => txMs >= m && txMs < m + outageMs);
  const flows = [
    { flow: 'up', from: 'mn1', to: 'cn1', startMs: 100 },
    { flow: 'down', from: 'cn1', to: 'mn1', startMs: 100.5 },
  ];
  const frames: ProbeFrame[] = []; // what a capture of mn1:wlan0 saw
  for (const f of flows) {
    const n = Math.floor(seconds * rate);
    const seq = Uint32Array.from({ length: n }, (_, i) => i);
    const tx = BigUint64Array.from({ length: n }, (_, i) => ns(f.startMs + (i * 1000) / rate));
    const kept = [...seq].filter((i) => !lostAt(f.startMs + (i * 1000) / rate));
    const head = (role: 'sender' | 'receiver', count: number) => ({
      flow: f.flow,
      role,
      node: role === 'sender' ? f.from : f.to,
      count,
      columns: (role === 'sender' ? SENDER_COLUMNS : RECEIVER_COLUMNS).map((c) => ({ ...c })),
      port: 40000,
      startNs: ns(f.startMs).toString(),
      stopNs: ns(f.startMs + seconds * 1000 + 300).toString(),
      ...(role === 'sender' ? { rate, size: 200, dst: '2001:db8::1', sendErrors: {}, maxLagMs: 0.4, burstLimited: 0 } : { strays: 0 }),
    });
    writeFileSync(path.join(dir, 'flows', `${f.flow}.sender.bin`), encodeSamples(head('sender', n), [seq, tx, new Uint8Array(n)]));
    const rseq = Uint32Array.from(kept);
    const rtx = BigUint64Array.from(kept, (i) => tx[i]!);
    const rrx = BigUint64Array.from(kept, (i) => tx[i]! + delayNs);
    writeFileSync(path.join(dir, 'flows', `${f.flow}.receiver.bin`), encodeSamples(head('receiver', kept.length), [rseq, rtx, rrx]));
    // downlink: seen on wlan0 on arrival; uplink: when it left (half the delay before the CN got it)
    for (const [k, i] of kept.entries()) {
      const seen = f.to === 'mn1' ? rrx[k]! : tx[i]! + delayNs / 2n;
      frames.push({ flow: f.flow, seq: i, txNs: tx[i]!, wallNs: seen + SYNTHETIC_WALL_OFFSET, dport: 40000 });
    }
  }
  if (opts.capture !== false) {
    mkdirSync(path.join(dir, 'pcaps'), { recursive: true });
    writeFileSync(path.join(dir, 'pcaps', 'mn1-wlan0.pcap'), probePcap(frames));
  }

  const events: object[] = [];
  const ev = (node: string, type: string, atMs: number, data: object) => events.push({ streamId: `${events.length}-0`, node, type, tNs: ns(atMs).toString(), data });
  ev('mn1', 'addresses', 50, { iface: 'wlan0', addresses: ['2001:db8:1::2'], carrier: true });
  moves.forEach((m, i) => {
    const from = i % 2 ? 'mag2' : 'mag1';
    const to = i % 2 ? 'mag1' : 'mag2';
    ev('mag2', 'pbu-sent', m - 500, { mnId, llId: '02:00', seq: 1, lifetime: 3600, hi: 1, attempt: 1, lma: '2001:db8:b::1' }); // an older registration
    ev(from, 'mn-detach', m + 0.5, { iface: 'acc0', mnId, llId: '02:00', trigger: 'carrier' });
    ev(to, 'mn-attach', m + offsets.mnAttach, { iface: 'acc0', mnId, llId: '02:00', trigger: 'carrier' });
    ev(to, 'pbu-sent', m + 0.3, { mnId: 'someone-else@pmiplab.example', llId: '02:01', seq: 9, lifetime: 3600, hi: 1, attempt: 1, lma: '2001:db8:b::1' }); // another MN
    ev(to, 'rs-received', m + offsets.rs, { iface: 'acc0', src: 'fe80::2' });
    ev(to, 'pbu-sent', m + offsets.pbuSent, { mnId, llId: '02:00', seq: i + 2, lifetime: 3600, hi: 3, attempt: 1, lma: '2001:db8:b::1' });
    ev('lma1', 'pbu-received', m + offsets.pbuReceived, { mag: '2001:db8:b:2::2', mnId, llId: '02:00', seq: i + 2, hi: 3, lifetime: 3600 });
    ev('lma1', 'pba-sent', m + offsets.pbaSent, { mag: '2001:db8:b:2::2', mnId, llId: '02:00', seq: i + 2, status: 0, lifetime: 3600 });
    ev(to, 'pba-received', m + offsets.pbaReceived, { mnId, llId: '02:00', seq: i + 2, status: 0, lifetime: 3600, hnp: '2001:db8:1::/64', rttUs: 700 });
    ev(to, 'routes-programmed', m + offsets.routesProgrammed, { mnId, llId: '02:00', hnp: '2001:db8:1::/64', peer: '2001:db8:b::1' });
    ev(to, 'ra-sent', m + offsets.raSent, { iface: 'acc0', mnId, llId: '02:00', hnp: '2001:db8:1::/64', reason: 'attach' });
    ev('mn1', 'addresses', m + 0.2, { iface: 'wlan0', addresses: ['2001:db8:1::2'], carrier: false });
    ev('mn1', 'addresses', m + 3.5, { iface: 'wlan0', addresses: ['2001:db8:1::2'], carrier: true });
    // the runner emits the move after it completed; its data carries the times
    ev('orchestrator', 'l2-move', m + 5, {
      type: 'l2-move', node: 'mn1', iface: 'wlan0', from, to,
      tStartNs: ns(m).toString(), tDownNs: ns(m + offsets.l2Down).toString(), tUpNs: ns(m + offsets.l2Up).toString(),
    });
  });
  events.sort((a, b) => Number(BigInt((a as { tNs: string }).tNs) - BigInt((b as { tNs: string }).tNs)));
  writeFileSync(path.join(dir, 'events.jsonl'), `${events.map((e) => JSON.stringify(e)).join('\n')}\nnot json\n`);
  writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({
      version: 1, name: 'synthetic', runId: 'syn1', source: '/x.yaml', startedNs: t0.toString(), endedNs: ns(seconds * 1000 + 500).toString(),
      transport: 'udp', dataPlane: 'seg6', l2Move: 'bridge',
      signaling: opts.impaired ? [{ link: 'l1', delayMs: 20, lossPct: 0 }] : [],
      flows: flows.map((f) => ({ flow: f.flow, from: f.from, to: f.to, rate, size: 200, port: 40000, dst: '2001:db8::1' })),
      lateSteps: [], nodeStats: {},
    }),
  );
  return { dir, t0, moves, outageMs, offsets };
}
