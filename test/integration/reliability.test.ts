import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Bus } from '../../nodes/runtime/bus.js';
import { silentProgress } from '../../orchestrator/cli/progress.js';
import { labUp, type Lab } from '../../orchestrator/lab/lab.js';
import { writeReport } from '../../orchestrator/report/index.js';
import { runExperiment } from '../../orchestrator/scenario/experiment.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { domain, movesScenario, nodeInNetns, readEvents, registrationsAfterMoves, writeTopology, type Ev } from '../support/experiments.js';

// What the issue asks to survive, on the real domain:
// - 30% of PBAs dropped on the backhaul: every registration still completes (retransmission);
// - the LMA killed and restarted during traffic: bindings back from Redis, traffic resumes, no prefix reassigned;
// - a rogue MAG (not in the policy store) sending PBUs: status 154, no binding;
// - 50,000 fuzzed and mutated MH packets at the LMA's socket: the LMA keeps serving, counts them, bindings unchanged.

const root = isRoot();
if (!root) console.warn('test/integration/reliability.test.ts skipped: needs root (namespaces, node processes)');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface BceView {
  mnId: string;
  hnps: string[];
  pCoA: string;
  state: string;
}
async function bindings(bus: Bus): Promise<BceView[]> {
  const ev = await bus.request('lma1', 'bindings', {}, 3000);
  return ((ev.data as { bindings: BceView[] }).bindings ?? []).map((b) => ({ mnId: b.mnId, hnps: b.hnps, pCoA: b.pCoA, state: b.state }));
}
async function lmaStats(bus: Bus): Promise<{ malformed: number; counters: { byStatus: Record<string, number> } }> {
  return (await bus.request('lma1', 'stats', {}, 3000)).data as { malformed: number; counters: { byStatus: Record<string, number> } };
}

/**
 * The MAGs' requests (a PBU with attempt 1 and its retransmissions) that no PBA
 * answered: a PBA received with any status but the ordering refusals (135,
 * 157), which the MAG answers by sending again, within the same request.
 */
function unfinishedRequests(events: Ev[]): Array<{ mag: string; lifetime: number; pbus: number }> {
  const open = new Map<string, { mag: string; lifetime: number; pbus: number; done: boolean }>();
  const all: Array<{ mag: string; lifetime: number; pbus: number; done: boolean }> = [];
  for (const e of [...events].sort((a, b) => (BigInt(a.tNs) < BigInt(b.tNs) ? -1 : 1))) {
    if (e.type === 'pbu-sent') {
      if (e.data?.attempt === 1 || !open.has(e.node)) {
        const r = { mag: e.node, lifetime: Number(e.data?.lifetime), pbus: 0, done: false };
        open.set(e.node, r);
        all.push(r);
      }
      open.get(e.node)!.pbus++;
    } else if (e.type === 'pba-received' && e.data?.status !== 135 && e.data?.status !== 157) {
      const r = open.get(e.node);
      if (r) r.done = true;
    }
  }
  return all.filter((r) => !r.done).map(({ mag, lifetime, pbus }) => ({ mag, lifetime, pbus }));
}

describe.skipIf(!root)('reliability', () => {
  it('30% of PBAs dropped: every registration still completes by retransmission', async () => {
    // The MAGs retransmit every 50 ms (no doubling) for up to 10 transmissions,
    // so a registration has 10 tries within the 500 ms before the next move: it
    // fails only if all 10 PBAs are lost, 0.3^10 = 6e-6 per move. With the
    // default doubling (50, 100, 200 ms...) only 4 fit, and 0.3^4 = 0.8% per
    // move made this test fail about one run in 16. 12 moves give about 30
    // PBAs: none dropped at all has odds 0.7^30 = 2e-5.
    const doc = parse(domain({ backhaulSignaling: { loss: '30%', messages: ['pba'] }, scenario: movesScenario(12, 500, 200) })) as {
      topology: { nodes: Record<string, { options?: Record<string, unknown> }> };
    };
    for (const m of ['mag1', 'mag2']) doc.topology.nodes[m]!.options = { retransmitMaxMs: 50, registrationAttempts: 10 };
    const { lab, dir, meta } = await runExperiment(writeTopology(stringify(doc)), { id: 'rl1', progress: silentProgress, capture: false });
    await lab.down();
    dirs.push(dir);
    const events = readEvents(dir);
    const regs = registrationsAfterMoves(events);
    expect(regs).toHaveLength(12);
    expect(regs.filter((r) => !r.accepted)).toEqual([]);
    const lma = meta.nodeStats.lma1 as { transport: { impairDropped: number } };
    expect(lma.transport.impairDropped).toBeGreaterThan(0); // PBAs were dropped...
    const retx = ['mag1', 'mag2'].reduce((s, m) => s + ((meta.nodeStats[m] as { pbuRetransmitted: number }).pbuRetransmitted ?? 0), 0);
    // ...and every loss was repaired by a retransmitted PBU, except the last PBA of a
    // request that ended without one. Those are de-registrations: the old MAG sends
    // its lifetime-0 PBU deregistrationAttempts (3) times at most and drops the entry
    // whether or not a PBA came (nodes/mag/bul.ts; the MN's binding has already moved
    // to the new MAG), so 3 lost PBAs in a row (0.3^3 = 2.7% per move) leave one loss
    // without a retransmission after it. That is what made "retransmissions >= dropped
    // PBAs" fail once (15 < 16).
    const unfinished = unfinishedRequests(events);
    expect(unfinished.filter((r) => r.lifetime !== 0)).toEqual([]); // no registration left unanswered
    expect(retx + unfinished.length).toBeGreaterThanOrEqual(lma.transport.impairDropped);
    expect(meta.signaling).toEqual([
      { link: 'l1', delayMs: 0, lossPct: 30, messages: ['pba'] },
      { link: 'l2', delayMs: 0, lossPct: 30, messages: ['pba'] },
    ]);
  });

  it('LMA killed and restarted during traffic: bindings recovered from Redis, traffic resumes, same prefix', async () => {
    const yaml = domain({
      scenario: `  - { at: 0s, action: { type: traffic-start, flow: up, from: mn1, to: cn1, rate: 200, size: 100 } }
  - { at: 0s, action: { type: traffic-start, flow: down, from: cn1, to: mn1, rate: 200, size: 100 } }
  - { at: 1s, action: { type: kill, node: lma1 } }
  - { at: 1500ms, action: { type: restart, node: lma1 } }
  - { at: 3s, action: { type: move, iface: "mn1:wlan0", to: mag2 } }
  - { at: 5s, action: { type: traffic-stop, flow: up } }
  - { at: 5s, action: { type: traffic-stop, flow: down } }
`,
    });
    const { lab, dir } = await runExperiment(writeTopology(yaml), { id: 'rl2', progress: silentProgress, capture: false });
    await lab.down();
    dirs.push(dir);
    const { metrics } = await writeReport(dir);
    const events = readEvents(dir);
    const restarted = events.find((e) => e.type === 'node-restarted');
    expect(restarted).toBeDefined();
    const recovered = events.filter((e) => e.node === 'lma1' && e.type === 'bindings-recovered');
    expect(recovered.map((e) => e.data?.count)).toContain(1);
    // one prefix for the MN, before and after the restart
    const hnps = new Set(events.filter((e) => e.type.startsWith('binding-')).map((e) => String(e.data?.hnp)));
    expect(hnps.size).toBe(1);
    const addrs = new Set(events.filter((e) => e.node === 'mn1' && e.type === 'addresses').flatMap((e) => (e.data?.addresses as string[]) ?? []));
    expect(addrs.size).toBe(1);
    // the move after the restart registered with the restarted LMA
    expect(registrationsAfterMoves(events)).toEqual([{ to: 'mag2', accepted: true }]);
    // traffic flowed again after the restart, both ways, and after the move
    for (const f of metrics.flows) {
      expect(f.handovers[0]?.recovered).toBe(true);
      expect(f.totals.received / f.totals.sent).toBeGreaterThan(0.8);
    }
  });

  describe('attacks on a running domain', () => {
    let lab: Lab;
    const lmaAddr = '2001:db8:b:1::2'; // the LMA's address toward mag1, where it listens; routed from the CN
    afterAll(async () => {
      await lab?.down();
    });

    it('brings the domain up with the MN registered', async () => {
      lab = await labUp(writeTopology(domain({ scenario: '' })), { id: 'rl3', progress: silentProgress });
      const bus = lab.nodes!.bus;
      for (let i = 0; i < 100 && (await bindings(bus)).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await bindings(bus)).toMatchObject([{ mnId: 'mn1@pmiplab.example', state: 'active' }]);
    });

    it('a rogue MAG sending PBUs gets status 154 and no binding', async () => {
      const bus = lab.nodes!.bus;
      const before = await bindings(bus);
      const out = nodeInNetns(
        lab.plan.nodes.find((n) => n.name === 'cn1')!.netns,
        `
import dgram from 'node:dgram';
import { encodeMessage, decodeMessage } from './dist/nodes/protocol/index.js';
const s = dgram.createSocket('udp6');
await new Promise((r) => s.bind(5436, r));
const got = [];
s.on('message', (m) => { const d = decodeMessage(m); if (d.ok) got.push(d.value); });
for (const [i, mn] of [['1', 'rogue@evil.example'], ['2', 'mn1@pmiplab.example']]) {
  const pbu = { kind: 'pbu', sequence: Number(i), flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true }, lifetime: 3600,
    options: [ { kind: 'mnId', nai: mn }, { kind: 'hnp', prefix: '::', prefixLength: 0 }, { kind: 'handoffIndicator', value: 1 },
               { kind: 'accessTechnologyType', value: 4 }, { kind: 'mnLinkLayerId', identifier: '02deadbeef0' + i } ] };
  s.send(Buffer.from(encodeMessage(pbu)), 5436, '${lmaAddr}');
}
await new Promise((r) => setTimeout(r, 1000));
s.close();
console.log(JSON.stringify(got.map((m) => ({ kind: m.kind, status: m.status }))));
`,
      );
      const replies = JSON.parse(out.trim()) as Array<{ kind: string; status: number }>;
      expect(replies).toEqual([
        { kind: 'pba', status: 154 },
        { kind: 'pba', status: 154 },
      ]);
      expect(await bindings(bus)).toEqual(before);
    });

    it('50,000 fuzzed and mutated MH packets: counted, the LMA keeps serving, bindings unchanged', async () => {
      const bus = lab.nodes!.bus;
      const before = await bindings(bus);
      const statsBefore = await lmaStats(bus);
      const out = nodeInNetns(
        lab.plan.nodes.find((n) => n.name === 'cn1')!.netns,
        `
import dgram from 'node:dgram';
import { encodeMessage, decodeMessage } from './dist/nodes/protocol/index.js';
// xorshift32, fixed seed: the same 50,000 packets every run
let x = 0x9e3779b9;
const rnd = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
const pbu = Buffer.from(encodeMessage({ kind: 'pbu', sequence: 7, flags: { A: true, H: false, L: false, K: false, M: false, R: false, P: true }, lifetime: 3600,
  options: [ { kind: 'mnId', nai: 'mn1@pmiplab.example' }, { kind: 'hnp', prefix: '::', prefixLength: 0 }, { kind: 'handoffIndicator', value: 3 },
             { kind: 'accessTechnologyType', value: 4 }, { kind: 'mnLinkLayerId', identifier: '0270aa000001' } ] }));
const s = dgram.createSocket('udp6');
let decodable = 0;
const N = 50000;
for (let i = 0; i < N; i++) {
  let b;
  if (i % 4 === 0) { b = Buffer.alloc(1 + Math.floor(rnd() * 200)); for (let k = 0; k < b.length; k++) b[k] = rnd() * 256; }
  else { b = Buffer.from(pbu); const n = 1 + Math.floor(rnd() * 4); for (let k = 0; k < n; k++) b[Math.floor(rnd() * b.length)] = rnd() * 256;
         if (i % 3 === 0) b = b.subarray(0, Math.floor(rnd() * b.length)); }
  // what the LMA must discard: undecodable, or Payload Proto not 59 (RFC 6275 9.2)
  if (decodeMessage(b).ok && b[0] === 59) decodable++;
  s.send(b, 5436, '${lmaAddr}');
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 2)); // bounded pace: at most ~25k/s
}
await new Promise((r) => setTimeout(r, 500));
s.close();
console.log(JSON.stringify({ sent: N, decodable }));
`,
        120_000,
      );
      const { sent, decodable } = JSON.parse(out.trim()) as { sent: number; decodable: number };
      expect(sent).toBe(50_000);
      const stats = await lmaStats(bus); // it answers: still serving
      const malformed = stats.malformed - statsBefore.malformed;
      // every packet to discard that arrived was counted (a few may be lost in socket buffers under the flood)
      expect(malformed).toBeGreaterThan((sent - decodable) * 0.9);
      expect(malformed).toBeLessThanOrEqual(sent - decodable);
      expect(await bindings(bus)).toEqual(before);
      // and the domain still forwards: the CN reaches the MN's address through the tunnel
      const ev = await bus.request('mn1', 'addresses', {}, 3000);
      const mnAddr = (ev.data as { addresses: string[] }).addresses[0]!;
      const ping = nodeInNetns(lab.plan.nodes.find((n) => n.name === 'cn1')!.netns, `
import { execFileSync } from 'node:child_process';
console.log(execFileSync('ping', ['-6', '-c', '3', '-i', '0.2', '-W', '1', '${mnAddr}'], { encoding: 'utf8' }));`);
      expect(ping).toMatch(/3 received/);
    });
  });
});
