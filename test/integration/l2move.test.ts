import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork, listNetns, teardownNetwork } from '../../orchestrator/netns/build.js';
import { cleanupRuns } from '../../orchestrator/netns/cleanup.js';
import { LinkController } from '../../orchestrator/netns/links.js';
import { readState, recordRun } from '../../orchestrator/netns/state.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { parseTopology } from '../../orchestrator/topology/load.js';
import type { Plan } from '../../orchestrator/topology/plan.js';
import { planTopology } from '../../orchestrator/topology/planner.js';

// Root only: MN moves in both L2 models (settings.l2Move bridge and netns) on
// real namespaces. Run ids h7b, h7n, h7c; nothing else is touched.
const root = isRoot();
if (!root) console.warn('test/integration/l2move.test.ts skipped: needs root (network namespaces)');

// 3 MAGs; the scenario sends mn1:wlan0 to mag2 only, so mag3 gets its standby port at run time.
const topology = (mode: 'bridge' | 'netns') => `name: l2move
topology:
  nodes:
    lma1: { kind: lma }
    mag1: { kind: mag }
    mag2: { kind: mag }
    mag3: { kind: mag }
    mn1: { kind: mn, interfaces: { wlan0: { att: "802.11" } } }
    cn1: { kind: cn }
  links:
    - endpoints: ["mag1:eth0", "lma1:eth1"]
    - endpoints: ["mag2:eth0", "lma1:eth2"]
    - endpoints: ["mag3:eth0", "lma1:eth3"]
    - endpoints: ["lma1:eth0", "cn1:eth0"]
    - endpoints: ["mn1:wlan0", "mag1:acc0"]
settings: { l2Move: ${mode} }
scenario:
  - at: 1s
    repeat: { count: 2, every: 1s }
    action: { type: move, iface: "mn1:wlan0", to: [mag2, mag1] }
`;
const planFor = (mode: 'bridge' | 'netns', runId: string): Plan =>
  planTopology(parseTopology(topology(mode), 'l2move.yaml'), '/test/l2move.yaml', runId);

const ns = (runId: string, node: string) => `pl${runId}-${node}`;
const ours = (runId: string) => [...listNetns()].filter((n) => n.startsWith(`pl${runId}-`));
const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** ping until it answers (the MN's link-local is tentative for a second after bring-up: DAD is on for MNs) */
async function pingOk(netns: string, addr: string, tries = 40): Promise<void> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    const r = spawnSync('ip', ['netns', 'exec', netns, 'ping', '-6', '-c', '1', '-W', '1', addr], { encoding: 'utf8' });
    if (r.status === 0) return;
    last = `${r.stdout}${r.stderr}`;
    await sleep(100);
  }
  throw new Error(`${netns} -> ${addr} never answered: ${last}`);
}
/** TX packets of an interface (ip -s link) */
const txPackets = (netns: string, dev: string) => {
  const out = ip('-n', netns, '-s', '-j', 'link', 'show', 'dev', dev);
  const [l] = JSON.parse(out) as Array<{ stats64: { tx: { packets: number } } }>;
  return l!.stats64.tx.packets;
};
const linkLine = (netns: string, dev: string) => ip('-n', netns, '-o', 'link', 'show', 'dev', dev);

/** An ip monitor of our own on the MN, independent of the LinkController's. */
function monitor(netns: string): { child: ChildProcessWithoutNullStreams; lines: () => string[] } {
  const child = spawn('ip', ['-n', netns, '-o', 'monitor', 'link']);
  let text = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (text += d));
  return { child, lines: () => text.split('\n').filter((l) => /^\d+: wlan0[@:]/.test(l)) };
}
const carrier = (l: string) => (/NO-CARRIER/.test(l) || !/LOWER_UP/.test(l) ? 'down' : 'up');

describe.skipIf(!root).each([
  { mode: 'bridge' as const, runId: 'h7b' },
  { mode: 'netns' as const, runId: 'h7n' },
])('l2 move, $mode mode', ({ mode, runId }) => {
  const plan = planFor(mode, runId);
  const ctl = new LinkController();
  const mn = ns(runId, 'mn1');
  beforeAll(async () => {
    await cleanupRuns({ runIds: [runId] });
    await buildNetwork(plan);
    await ctl.open(plan);
  });
  afterAll(async () => {
    await ctl.close();
    await teardownNetwork(plan);
  });

  it('plans the air segment only in bridge mode; MAG access interfaces carry only fe80::1', () => {
    const air = plan.links.find((l) => l.kind === 'access')?.air;
    if (mode === 'bridge') {
      expect(air?.netns).toBe(`pl${runId}-air5`);
      expect(ours(runId)).toContain(`pl${runId}-air5`);
      expect(ip('-n', ns(runId, 'mag2'), '-6', '-o', 'addr', 'show', 'dev', 'acc0')).toMatch(/fe80::1\/64/);
      expect(linkLine(ns(runId, 'mag2'), 'acc0')).toMatch(/NO-CARRIER|LOWERLAYERDOWN/);
      expect(linkLine(air!.netns, 'br0')).toMatch(/state UP/);
    } else {
      expect(air).toBeUndefined();
      expect(ours(runId)).toHaveLength(6);
    }
    const lls = ip('-n', ns(runId, 'mag1'), '-6', '-o', 'addr', 'show', 'dev', 'acc0', 'scope', 'link')
      .split('\n')
      .filter(Boolean)
      .map((l) => /inet6 (\S+)/.exec(l)?.[1]);
    expect(lls).toEqual(['fe80::1/64']); // addrgenmode none: no EUI-64 link-local next to it
  });

  it('moves mag1 -> mag2 -> mag1: carrier down then up at the MN, fe80::1 answers from the new MAG', async () => {
    await pingOk(mn, 'fe80::1%wlan0');
    const mon = monitor(mn);
    await sleep(100);
    try {
      for (const [to, from] of [['mag2', 'mag1'], ['mag1', 'mag2']] as const) {
        const before = mon.lines().length;
        const ev = await ctl.move({ node: 'mn1', iface: 'wlan0', to });
        expect(ev).toMatchObject({ type: 'l2-move', node: 'mn1', iface: 'wlan0', from, to });
        const [t0, td, tu] = [BigInt(ev.tStartNs), BigInt(ev.tDownNs), BigInt(ev.tUpNs)];
        expect(td > t0 && tu > td).toBe(true);
        console.log(`${mode} move ${from}->${to}: carrier down after ${Number(td - t0) / 1e6} ms, up after ${Number(tu - t0) / 1e6} ms`);
        const att = ctl.attachment('mn1', 'wlan0')!;
        expect(att).toMatchObject({ mag: to, up: true, mode });
        const newNs = ns(runId, to);
        const tx0 = txPackets(newNs, att.peer);
        await pingOk(mn, 'fe80::1%wlan0');
        expect(txPackets(newNs, att.peer)).toBeGreaterThan(tx0); // the answer left through the new MAG
        expect(linkLine(newNs, att.peer)).toMatch(/LOWER_UP/);
        if (mode === 'bridge') expect(linkLine(ns(runId, from), 'acc0')).toMatch(/NO-CARRIER|LOWERLAYERDOWN/);
        else expect(ip('-n', ns(runId, from), '-o', 'link', 'show')).not.toMatch(/acc0/);
        // our own monitor saw carrier go down, then come back
        await sleep(20);
        const seen = mon.lines().slice(before).map(carrier);
        expect(seen.indexOf('down')).toBeGreaterThanOrEqual(0);
        expect(seen.lastIndexOf('up')).toBeGreaterThan(seen.indexOf('down'));
        // the MN only has the new MAG as neighbour: its fe80::1 entry has the new MAG's side behind it
        expect(ip('-n', mn, '-6', 'neigh', 'show', 'dev', 'wlan0')).toMatch(/fe80::1 lladdr 02:00:00:00:00:01/);
      }
    } finally {
      mon.child.kill();
    }
  });

  it('down and up: carrier loss and return; a move while down waits only for the up', async () => {
    const d = await ctl.down('mn1', 'wlan0');
    expect(d.type).toBe('l2-down');
    expect(linkLine(mn, 'wlan0')).toMatch(/NO-CARRIER/);
    const u = await ctl.up('mn1', 'wlan0');
    expect(BigInt(u.tUpNs) > BigInt(u.tStartNs)).toBe(true);
    await pingOk(mn, 'fe80::1%wlan0');
    await ctl.down('mn1', 'wlan0');
    const m = await ctl.move({ node: 'mn1', iface: 'wlan0', to: 'mag2' });
    expect(m.tDownNs).toBe(m.tStartNs);
    await pingOk(mn, 'fe80::1%wlan0');
    await ctl.move({ node: 'mn1', iface: 'wlan0', to: 'mag1' });
  });

  it('moves to a MAG the plan gave no standby port (made at run time), and back', async () => {
    const ev = await ctl.move({ node: 'mn1', iface: 'wlan0', to: 'mag3' });
    expect(BigInt(ev.tUpNs) > BigInt(ev.tDownNs)).toBe(true);
    const att = ctl.attachment('mn1', 'wlan0')!;
    expect(att).toMatchObject({ mag: 'mag3', peer: 'acc0' });
    const tx0 = txPackets(ns(runId, 'mag3'), 'acc0');
    await pingOk(mn, 'fe80::1%wlan0');
    expect(txPackets(ns(runId, 'mag3'), 'acc0')).toBeGreaterThan(tx0);
    expect(ip('-n', ns(runId, 'mag3'), '-6', '-o', 'addr', 'show', 'dev', 'acc0', 'scope', 'link')).not.toMatch(/fe80::(?!1\/)/);
    await ctl.move({ node: 'mn1', iface: 'wlan0', to: 'mag1' });
    await pingOk(mn, 'fe80::1%wlan0');
    if (mode === 'bridge') {
      // the second move to mag3 uses the port made by the first
      const again = await ctl.move({ node: 'mn1', iface: 'wlan0', to: 'mag3' });
      expect(again.to).toBe('mag3');
      await ctl.move({ node: 'mn1', iface: 'wlan0', to: 'mag1' });
    }
  });

  it('50 moves: median start -> carrier up at the MN', async () => {
    const ms: number[] = [];
    for (let i = 0; i < 50; i++) {
      const ev = await ctl.move({ node: 'mn1', iface: 'wlan0', to: i % 2 ? 'mag1' : 'mag2' });
      expect(BigInt(ev.tDownNs) < BigInt(ev.tUpNs)).toBe(true);
      ms.push(Number(BigInt(ev.tUpNs) - BigInt(ev.tStartNs)) / 1e6);
    }
    const s = [...ms].sort((a, b) => a - b);
    console.log(`${mode}: 50 moves, start -> MN carrier up: median ${s[25]?.toFixed(2)} ms, p90 ${s[45]?.toFixed(2)}, max ${s.at(-1)?.toFixed(2)}; folded ${ctl.folds}`);
    if (mode === 'bridge') expect(s[25]).toBeLessThan(5);
    else expect(s[25]).toBeLessThan(100);
    await pingOk(mn, 'fe80::1%wlan0');
  });

  it('teardown leaves no namespace of the run', async () => {
    await ctl.close();
    await teardownNetwork(plan);
    expect(ours(runId)).toEqual([]);
  });
});

describe.skipIf(!root)('l2 move: cleanup finds the air namespaces in the run state', () => {
  const runsDir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-l2move-'));
  afterAll(async () => {
    await cleanupRuns({ runIds: ['h7c'], runsDir });
    rmSync(runsDir, { recursive: true, force: true });
  });

  it('records air namespaces as bridge namespaces; cleanupRuns removes them', async () => {
    const plan = planFor('bridge', 'h7c');
    await cleanupRuns({ runIds: ['h7c'], runsDir });
    recordRun(plan, undefined, runsDir);
    await buildNetwork(plan);
    expect(readState('h7c', runsDir)?.bridgeNamespaces).toEqual(['plh7c-air5']);
    expect(ours('h7c')).toContain('plh7c-air5');
    await cleanupRuns({ runIds: ['h7c'], runsDir });
    expect(ours('h7c')).toEqual([]);
  });
});
