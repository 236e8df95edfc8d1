import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asSamples, decodeSamples } from '../../nodes/traffic/samples.js';
import { launchNodes, nodeMainPath, type NodeProcesses } from '../../orchestrator/launch/launcher.js';
import { buildNetwork } from '../../orchestrator/netns/build.js';
import { cleanupRuns } from '../../orchestrator/netns/cleanup.js';
import { recordRun } from '../../orchestrator/netns/state.js';
import { startRedis, type RedisHandle } from '../../orchestrator/redis/server.js';
import { writeReport } from '../../orchestrator/report/index.js';
import { nsName, runPaths } from '../../orchestrator/run/paths.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { Plan } from '../../orchestrator/topology/plan.js';

// Root only, run id h6tf: an MN and a CN process on the two ends of one veth,
// driven over the bus as the scenario runner drives them: probes both ways at
// 1000 pps, a 200 ms outage of the link in the middle (the CN's end set down),
// then the report computed from the files the nodes wrote. The handover with
// the LMA and MAGs in between is tested with the domain (scenario tests).

const root = isRoot();
if (!root) console.warn('test/integration/traffic.test.ts skipped: needs root (network namespaces)');

const RUN = 'h6tf';
const MN_ADDR = '2001:db8:6f::2';
const CN_ADDR = '2001:db8:6f::1';
const OUTAGE_MS = 200;

function plan(): Plan {
  // keep addresses over admin down, no DAD: the link comes back as it was
  const sys = { 'net.ipv6.conf.all.keep_addr_on_down': '1', 'net.ipv6.conf.default.accept_dad': '0', 'net.ipv6.conf.all.accept_dad': '0' };
  const iface = (ifindex: number, addr: string) => ({
    name: 'eth0', ifindex, mac: `02:00:00:00:6f:${ifindex.toString(16).padStart(2, '0')}`, mtu: 1500, addresses: [`${addr}/64`], link: 'l1',
  });
  return Plan.parse({
    version: 1, runId: RUN, name: 'traffic-veth', source: '/test/traffic-veth.yaml',
    pools: { backhaul: '2001:db8:b::/48', hnp: '2001:db8:1::/48', cn: '2001:db8:c::/48' },
    nodes: [
      { name: 'mn1', kind: 'mn', netns: nsName(RUN, 'mn1'), interfaces: [iface(0x61, MN_ADDR)], routes: [], sysctls: sys, options: { mnId: 'mn1@pmiplab.example' } },
      { name: 'cn1', kind: 'cn', netns: nsName(RUN, 'cn1'), interfaces: [iface(0x62, CN_ADDR)], routes: [], sysctls: sys, options: {} },
    ],
    links: [{ id: 'l1', kind: 'core', endpoints: [{ node: 'mn1', iface: 'eth0' }, { node: 'cn1', iface: 'eth0' }], mtu: 1500, subnet: '2001:db8:6f::/64' }],
    scenario: [],
  });
}

describe.skipIf(!root)('traffic endpoints on a veth (root)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'h6tf-'));
  const paths = runPaths(RUN, tmp);
  const p = plan();
  let redis: RedisHandle | null = null;
  let procs: NodeProcesses | null = null;
  const req = async (node: string, type: string, args: unknown) => (await procs!.bus.request(node, type, args, 5000));

  beforeAll(async () => {
    try {
      nodeMainPath();
    } catch {
      execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
    }
    await cleanupRuns({ runIds: [RUN], runsDir: tmp });
    recordRun(p, undefined, tmp);
    await buildNetwork(p);
    redis = await startRedis(paths, { redisUrl: '' });
    procs = await launchNodes(p, paths, redis.url);
    await procs.waitReady(20_000);
  });
  afterAll(async () => {
    await procs?.stopAll(5000).catch(() => undefined);
    await redis?.stop().catch(() => undefined);
    await cleanupRuns({ runIds: [RUN], runsDir: tmp });
    rmSync(tmp, { recursive: true, force: true });
  });

  it('the MN reports its interface address and carrier', async () => {
    const ev = await req('mn1', 'addresses', {});
    expect(ev).toMatchObject({ type: 'addresses', data: { iface: 'eth0', addresses: [MN_ADDR], carrier: true } });
    expect(await req('mn1', 'addresses', { iface: 'nope0' })).toMatchObject({ type: 'error' });
  });

  it('refuses bad traffic commands with an error and keeps serving', async () => {
    expect(await req('cn1', 'traffic-start', { flow: 'x', dst: 'not-an-address', port: 1, rate: 10, size: 16 })).toMatchObject({ type: 'error', data: { message: expect.stringMatching(/dst/) } });
    expect(await req('cn1', 'traffic-listen', { flow: 'bad name!', port: 99999 })).toMatchObject({ type: 'error' });
    expect(await req('mn1', 'traffic-stop', { flow: 'never' })).toMatchObject({ type: 'error', data: { message: expect.stringMatching(/no end of flow never/) } });
    expect(await req('cn1', 'ping', undefined)).toMatchObject({ type: 'pong' });
  });

  it('1000 pps each way through an outage: both ends write samples, the report sees the gap and the losses', async () => {
    expect(await req('cn1', 'traffic-listen', { flow: 'up', port: 41001 })).toMatchObject({ type: 'traffic-started', data: { flow: 'up', role: 'receiver', port: 41001 } });
    expect(await req('mn1', 'traffic-listen', { flow: 'down', port: 41002 })).toMatchObject({ type: 'traffic-started', data: { role: 'receiver' } });
    // a second receiver on a taken flow is refused
    expect(await req('mn1', 'traffic-listen', { flow: 'down', port: 41003 })).toMatchObject({ type: 'error' });
    await req('mn1', 'traffic-start', { flow: 'up', dst: CN_ADDR, port: 41001, rate: 1000, size: 200 });
    await req('cn1', 'traffic-start', { flow: 'down', dst: MN_ADDR, port: 41002, rate: 1000, size: 200 });
    await new Promise((r) => setTimeout(r, 1000));

    // the outage: the CN's end goes down (the MN sees no carrier), then up again
    const cn = nsName(RUN, 'cn1');
    const tStart = process.hrtime.bigint();
    execFileSync('ip', ['-n', cn, 'link', 'set', 'dev', 'eth0', 'down']);
    const tDown = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const tUpCmd = process.hrtime.bigint(); // the link may be up before ip returns
    execFileSync('ip', ['-n', cn, 'link', 'set', 'dev', 'eth0', 'up']);
    const tUp = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, 1000));

    const stopped = [];
    for (const [node, flow] of [['mn1', 'up'], ['cn1', 'down']] as const) stopped.push(await req(node, 'traffic-stop', { flow }));
    await new Promise((r) => setTimeout(r, 200));
    for (const [node, flow] of [['cn1', 'up'], ['mn1', 'down']] as const) stopped.push(await req(node, 'traffic-stop', { flow }));
    for (const ev of stopped) {
      expect(ev.type).toBe('traffic-stopped');
      const d = ev.data as { file: string; role: string; sent?: number; received?: number };
      expect(existsSync(path.join(paths.dir, d.file))).toBe(true);
      expect((d.role === 'sender' ? d.sent : d.received) ?? 0).toBeGreaterThan(1500);
    }

    // what the scenario runner records: the L2 event, and the flows' ends
    const l2 = { type: 'l2-move', node: 'mn1', iface: 'eth0', from: 'cn-up', to: 'cn-up-again', tStartNs: `${tStart}`, tDownNs: `${tDown}`, tUpNs: `${tUp}` };
    writeFileSync(path.join(paths.dir, 'events.jsonl'), `${JSON.stringify({ node: 'orchestrator', type: 'l2-move', tNs: `${tUp}`, data: l2 })}\n`);
    const { metrics } = await writeReport(paths.dir);
    expect(metrics.flows.map((f) => f.flow)).toEqual(['down', 'up']);
    for (const f of metrics.flows) {
      const h = f.handovers[0]!;
      const t = f.totals;
      expect(f.handovers).toHaveLength(1);
      // the outage shows as one gap of about its length, with about a probe per ms lost
      expect(h.gapMs).toBeGreaterThan(OUTAGE_MS * 0.9);
      expect(h.gapMs).toBeLessThan(OUTAGE_MS + 150);
      expect(h.recovered).toBe(true);
      expect(h.duplicated).toBe(0);
      // probes held in the MN's neighbour queue may arrive after newer ones (up only)
      if (f.flow === 'down') expect(h.reordered).toBe(0);
      expect(h.reordered).toBeLessThan(OUTAGE_MS + 50);
      expect(f.baseline.lost).toBe(0);
      // the rest of the flow: the configured rate, no loss, sub-ms delay on a veth
      expect(Math.abs(t.ratePps - 1000) / 1000).toBeLessThan(0.03);
      expect(t.lost).toBe(h.lost);
      expect(t.received + (t.lost ?? 0)).toBe(t.sent);
      expect(t.delayMs!.p50).toBeLessThan(1);
      expect(t.strays).toBe(0);
    }
    // down: the CN's end was admin down, so its own kernel refused its probes (no route): all lost
    const down = metrics.flows.find((f) => f.flow === 'down')!.handovers[0]!;
    expect(down.lost).toBeGreaterThan(OUTAGE_MS * 0.8);
    expect(down.lost).toBeLessThan(OUTAGE_MS + 150);
    // all but the probes already on the wire when the end went down (at most a couple at 1 ms spacing)
    expect(down.sendFailed).toBeLessThanOrEqual(down.lost!);
    expect(down.sendFailed).toBeGreaterThanOrEqual(down.lost! - 3);
    // up: the MN's kernel queued what it sent into the dead link (neighbour queue) and
    // delivered part of it when the link came back: each probe sent while the link was
    // down is lost or arrived after it came up, and lost is exactly what never arrived
    const read = (file: string) => asSamples(decodeSamples(readFileSync(path.join(paths.dir, file))));
    const us = read('flows/up.sender.bin');
    const ur = read('flows/up.receiver.bin');
    if (!us.ok || !us.sender || !ur.ok || !ur.receiver) throw new Error('up samples expected');
    const arrival = new Map<number, bigint>();
    ur.receiver.seq.forEach((q, i) => arrival.set(q, ur.receiver!.rxNs[i]!));
    let during = 0;
    for (let i = 0; i < us.sender.seq.length; i++) {
      const tx = us.sender.txNs[i]!;
      if (tx < tDown || tx > tUpCmd) continue;
      during++;
      const rx = arrival.get(us.sender.seq[i]!);
      if (rx !== undefined) expect(rx).toBeGreaterThanOrEqual(tUpCmd);
    }
    expect(during).toBeGreaterThan(OUTAGE_MS * 0.8);
    const up = metrics.flows.find((f) => f.flow === 'up')!;
    expect(up.totals.lost).toBe([...us.sender.seq].filter((q) => !arrival.has(q)).length);
    expect(readFileSync(path.join(paths.dir, 'report.html'), 'utf8').match(/<svg[\s>]/g)?.length).toBe(5);
  });

  it('a sender without a route records every probe as failed', async () => {
    await req('mn1', 'traffic-start', { flow: 'nowhere', dst: '2001:db8:dead::1', port: 9, rate: 1000, size: 16 });
    await new Promise((r) => setTimeout(r, 100));
    const ev = await req('mn1', 'traffic-stop', { flow: 'nowhere' });
    const d = ev.data as { file: string; sent: number };
    const s = asSamples(decodeSamples(readFileSync(path.join(paths.dir, d.file))));
    if (!s.ok || !s.sender) throw new Error('sender samples expected');
    expect(d.sent).toBeGreaterThan(50);
    expect(s.sender.status.every((x) => x === 1)).toBe(true);
    expect(s.sender.header.sendErrors).toMatchObject({ ENETUNREACH: d.sent });
  });
});
