import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork, listNetns, teardownNetwork } from '../../orchestrator/netns/build.js';
import { cleanupRuns } from '../../orchestrator/netns/cleanup.js';
import { IpShell } from '../../nodes/runtime/ip-shell.js';
import { LinkController } from '../../orchestrator/netns/links.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { makePlan } from '../support/plans.js';

// Root only: builds real namespaces with run ids h4n / h4m and removes them.
const root = isRoot();
if (!root) console.warn('test/integration/netns.test.ts skipped: needs root (network namespaces)');

const ping = (ns: string, addr: string) =>
  spawnSync('ip', ['netns', 'exec', ns, 'ping', '-6', '-c', '1', '-W', '2', addr], { encoding: 'utf8' });
const expectPing = (ns: string, addr: string) => {
  const r = ping(ns, addr);
  expect(r.status, `${ns} -> ${addr}: ${r.stdout}${r.stderr}`).toBe(0);
};
const links = (ns: string) => execFileSync('ip', ['-n', ns, '-o', 'link', 'show'], { encoding: 'utf8' });
const ours = (prefix: string) => [...listNetns()].filter((n) => n.startsWith(prefix));

describe.skipIf(!root)('netns: build, ping, teardown', () => {
  const plan = makePlan('h4n');
  beforeAll(async () => {
    await cleanupRuns({ runIds: ['h4n'] }); // leftovers of an earlier failed run of this very test
  });
  afterAll(async () => {
    await teardownNetwork(plan);
  });

  it('builds the plan and every link carries traffic', async () => {
    const steps: string[] = [];
    await buildNetwork(plan, { onProgress: (s, d, t) => steps.push(`${s} ${d}/${t}`) });
    expect(steps.at(-1)).toMatch(/ 6\/6$/);
    expect(ours('plh4n-').sort()).toEqual(plan.nodes.map((n) => n.netns).sort());
    expectPing('plh4n-lma1', '2001:db8:b:1::2');
    expectPing('plh4n-mag1', '2001:db8:b:1::1');
    expectPing('plh4n-lma1', '2001:db8:b:2::2');
    expectPing('plh4n-lma1', '2001:db8:c:1::2');
    expectPing('plh4n-cn1', '2001:db8:b:1::1'); // via the default route
    expectPing('plh4n-mn1', 'fe80::1%wlan0');
    expect(links('plh4n-mn1')).toMatch(/10005: wlan0@if10006:.*mtu 1500/);
    expect(links('plh4n-lma1')).toMatch(/10001: eth1@if10002:.*mtu 1600/);
  });

  it('refuses to build over an existing namespace of the same run', async () => {
    await expect(buildNetwork(plan)).rejects.toThrow(/already exists/);
    expect(ours('plh4n-')).toHaveLength(5); // and did not remove the running one
  });

  it('tears down everything, idempotently', async () => {
    await teardownNetwork(plan);
    await teardownNetwork(plan);
    expect(ours('plh4n-')).toEqual([]);
    const rootLinks = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    for (const n of plan.nodes) for (const i of n.interfaces) expect(rootLinks).not.toMatch(new RegExp(`^${i.ifindex}:`, 'm'));
  });

  it('removes what it made when a batch line fails, naming the line', async () => {
    const bad = makePlan('h4n');
    bad.nodes[4]?.routes.push({ dst: '2001:db8:99::/48', via: '2001:db8:77::1' }); // unreachable gateway
    await expect(buildNetwork(bad)).rejects.toThrow(
      /batch of plh4n-cn1: line 5 'route add 2001:db8:99::\/48 via 2001:db8:77::1' failed: .*(unreachable|No route)/i,
    );
    expect(ours('plh4n-')).toEqual([]);
  });
});

describe.skipIf(!root)('netns: ip shell and L2 moves', () => {
  const plan = makePlan('h4m');
  const ctl = new LinkController();
  beforeAll(async () => {
    await cleanupRuns({ runIds: ['h4m'] });
    await buildNetwork(plan);
    await ctl.open(plan);
  });
  afterAll(async () => {
    await ctl.close();
    await teardownNetwork(plan);
  });

  it('ip shell reports each line done or failed, in a fraction of a millisecond', async () => {
    const sh = new IpShell('plh4m-cn1', ['-6']).start();
    const bad = await sh.run('route add 2001:db8:5::/64 via 2001:db8:77::1');
    expect(bad.ok).toBe(false);
    expect(bad.error).toMatch(/unreachable|No route/i);
    const lat: number[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await sh.run(`route replace 2001:db8:5::/64 via 2001:db8:c:1::1 metric ${i + 1}`);
      expect(r.ok).toBe(true);
      lat.push(Number(r.tEndNs - r.tStartNs) / 1e6);
    }
    lat.sort((a, b) => a - b);
    console.log(`ip shell line latency: median ${lat[25]?.toFixed(3)} ms, max ${lat.at(-1)?.toFixed(3)} ms`);
    expect(execFileSync('ip', ['-n', 'plh4m-cn1', '-6', 'route', 'show', '2001:db8:5::/64'], { encoding: 'utf8' })).toMatch(/via 2001:db8:c:1::1/);
    await sh.close();
  });

  it('moves the MN interface mag1 -> mag2 -> mag1; the MN sees carrier down then up and reaches fe80::1', async () => {
    const ev = await ctl.move({ node: 'mn1', iface: 'wlan0', to: 'mag2' });
    expect(ev).toMatchObject({ type: 'l2-move', node: 'mn1', iface: 'wlan0', from: 'mag1', to: 'mag2' });
    const [t0, td, tu] = [BigInt(ev.tStartNs), BigInt(ev.tDownNs), BigInt(ev.tUpNs)];
    expect(td > t0 && tu > td).toBe(true);
    expect(links('plh4m-mag2')).toMatch(/10006: acc1@/);
    expect(links('plh4m-mag1')).not.toMatch(/acc1/);
    expect(ctl.attachment('mn1', 'wlan0')).toMatchObject({ mag: 'mag2', peer: 'acc1', up: true });
    expectPing('plh4m-mn1', 'fe80::1%wlan0');
    console.log(`move mag1->mag2: down after ${Number(td - t0) / 1e6} ms, up after ${Number(tu - t0) / 1e6} ms`);

    const back = await ctl.move({ node: 'mn1', iface: 'wlan0', to: 'mag1' });
    expect(back).toMatchObject({ from: 'mag2', to: 'mag1' });
    expect(links('plh4m-mag1')).toMatch(/10006: acc1@/);
    expectPing('plh4m-mn1', 'fe80::1%wlan0');
    await expect(ctl.move({ node: 'mn1', iface: 'wlan0', to: 'mag1' })).rejects.toThrow(/already attached/);
  });

  it('down and up: carrier loss and return, addresses back', async () => {
    const d = await ctl.down('mn1', 'wlan0');
    expect(d.type).toBe('l2-down');
    expect(ping('plh4m-mn1', 'fe80::1%wlan0').status).not.toBe(0);
    const u = await ctl.up('mn1', 'wlan0');
    expect(BigInt(u.tUpNs) > BigInt(u.tStartNs)).toBe(true);
    expectPing('plh4m-mn1', 'fe80::1%wlan0');
    // a move while down only waits for the up
    await ctl.down('mn1', 'wlan0');
    const m = await ctl.move({ node: 'mn1', iface: 'wlan0', to: 'mag2' });
    expect(m.tDownNs).toBe(m.tStartNs);
    await ctl.move({ node: 'mn1', iface: 'wlan0', to: 'mag1' });
  });

  it('20 moves: median start -> carrier up at the MN', async () => {
    const ms: number[] = [];
    for (let i = 0; i < 20; i++) {
      const ev = await ctl.move({ node: 'mn1', iface: 'wlan0', to: i % 2 ? 'mag1' : 'mag2' });
      ms.push(Number(BigInt(ev.tUpNs) - BigInt(ev.tStartNs)) / 1e6);
    }
    const s = [...ms].sort((a, b) => a - b);
    console.log(`20 moves, start -> MN carrier up: median ${s[10]?.toFixed(2)} ms, min ${s[0]?.toFixed(2)}, max ${s.at(-1)?.toFixed(2)}`);
    expect(s[10]).toBeLessThan(100);
  });
});
