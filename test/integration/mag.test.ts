import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus, type BusEvent } from '../../nodes/runtime/bus.js';
import { PolicyStore, policyKeys } from '../../nodes/runtime/policy-store.js';
import { silentProgress } from '../../orchestrator/cli/progress.js';
import { type Lab, labUp } from '../../orchestrator/lab/lab.js';
import { LinkController } from '../../orchestrator/netns/index.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { eventWaiter } from '../support/wait.js';

// Root only: the MAG role with the real LMA, MN and CN processes on
// topologies/handover-basic.yaml (run id mg6): initial attachment, handovers
// in both directions, what each MAG leaves in its kernel, the bul/stats
// commands, an MN missing from the policy store, and the LMA going silent;
// then the same domain with netns moves (run id mg7).
const root = isRoot();
if (!root) console.warn('test/integration/mag.test.ts skipped: needs root (network namespaces)');

const RUN = 'mg6';
const CN = '2001:db8:c:3::2';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!root)('MAG on handover-basic with real LMA, MN and CN', () => {
  let lab: Lab;
  let bus: Bus;
  let links: LinkController;
  const events: BusEvent[] = [];
  let stream: ReturnType<Bus['events']> | undefined;
  let hnp = '';

  const ns = (node: string) => `pl${RUN}-${node}`;
  const of = (node: string, type: string, after = 0n) => events.filter((e) => e.node === node && e.type === type && BigInt(e.tNs) > after);
  const data = <T>(e: BusEvent | undefined) => e?.data as T;
  const waitFor = eventWaiter(events, { timeoutMs: 10_000, everyMs: 20 });
  const ip = (netns: string, ...args: string[]) => execFileSync('ip', ['-n', netns, '-6', ...args], { encoding: 'utf8' });
  const magKernel = (mag: string) => ({ rules: ip(ns(mag), 'rule'), routes: ip(ns(mag), 'route') });
  const ping = (from: string, to: string) =>
    spawnSync('ip', ['netns', 'exec', ns(from), 'ping', '-6', '-c', '3', '-i', '0.2', '-W', '1', to], { encoding: 'utf8' }).status;
  const mnAddress = () => {
    const a = [...of('mn1', 'addresses')].reverse().find((e) => data<{ addresses: string[] }>(e).addresses.length > 0);
    return data<{ addresses: string[] }>(a)?.addresses[0];
  };

  beforeAll(async () => {
    lab = await labUp(path.resolve('topologies/handover-basic.yaml'), { id: RUN, progress: silentProgress });
    bus = await Bus.connect(lab.redis!.url, RUN, 'orchestrator');
    stream = bus.events('0-0');
    void (async () => {
      for await (const e of stream) events.push(e);
    })();
    links = new LinkController();
    await links.open(lab.plan);
  }, 90_000);

  afterAll(async () => {
    stream?.close();
    await links?.close();
    await bus?.close();
    await lab?.down();
  }, 60_000);

  it('registers the MN at mag1 from carrier alone: PBU (HI 1), PBA, kernel, RA; the MN configures its address and reaches the CN', async () => {
    await waitFor('mag1 ra-sent', () => of('mag1', 'ra-sent').length > 0, 15_000);
    const attach = of('mag1', 'mn-attach')[0];
    expect(data(attach)).toMatchObject({ iface: 'acc0', mnId: 'mn1@pmiplab.example', trigger: 'carrier' });
    const pbu = data<{ hi: number; attempt: number; lifetime: number; lma: string }>(of('mag1', 'pbu-sent')[0]);
    expect(pbu).toMatchObject({ hi: 1, attempt: 1, lifetime: 60, lma: '2001:db8:b:1::2' });
    const pba = data<{ status: number; hnp: string; rttUs: number }>(of('mag1', 'pba-received')[0]);
    expect(pba.status).toBe(0);
    expect(pba.hnp).toMatch(/^2001:db8:a:[0-9a-f]+::\/64$/);
    hnp = pba.hnp;
    expect(data(of('mag1', 'routes-programmed')[0])).toEqual({ mnId: 'mn1@pmiplab.example', llId: data<{ llId: string }>(attach).llId, iface: 'acc0', hnp, peer: '2001:db8:b:1::2' });
    // order on the shared clock: attach, PBU, PBA, routes, RA
    const t = (node: string, type: string) => BigInt(of(node, type)[0]?.tNs ?? '0');
    const order = ['mn-attach', 'pbu-sent', 'pba-received', 'routes-programmed', 'ra-sent'].map((x) => t('mag1', x));
    expect([...order].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(order);
    const k = magKernel('mag1');
    expect(k.rules).toContain(`from ${hnp} iif acc0`);
    expect(k.routes).toMatch(new RegExp(`^${hnp} via fe80:[0-9a-f:]+ dev acc0`, 'm')); // to the MN's link-local (point-to-point link)
    // SLAAC from the RA: the MN's own kernel makes the address
    await waitFor('an MN address in the HNP', () => (mnAddress() ?? '').startsWith(hnp.split('::')[0] as string), 15_000);
    expect(ping('mn1', CN)).toBe(0);
  });

  it('hands over to mag2 and back: the old MAG de-registers and clears its kernel, the new one registers the same prefix (HI 3)', async () => {
    const address = mnAddress();
    for (const [from, to] of [
      ['mag1', 'mag2'],
      ['mag2', 'mag1'],
    ] as const) {
      const ev = await links.move({ node: 'mn1', iface: 'wlan0', to });
      const t0 = BigInt(ev.tStartNs);
      await waitFor(`${to} routes-programmed`, () => of(to, 'routes-programmed', t0).length > 0);
      expect(data(of(from, 'mn-detach', t0)[0])).toMatchObject({ iface: 'acc0', trigger: 'carrier' });
      expect(data(of(from, 'pbu-sent', t0)[0])).toMatchObject({ lifetime: 0, hi: 4 });
      expect(data(of(to, 'mn-attach', t0)[0])).toMatchObject({ trigger: 'carrier' });
      expect(data(of(to, 'pbu-sent', t0)[0])).toMatchObject({ hi: 3, lifetime: 60 });
      const accepted = of(to, 'pba-received', t0).map((e) => data<{ status: number; hnp?: string }>(e)).find((p) => p.status === 0);
      expect(accepted?.hnp).toBe(hnp);
      await waitFor(`${to} ra-sent`, () => of(to, 'ra-sent', t0).length > 0);
      expect(data(of(to, 'ra-sent', t0)[0])).toMatchObject({ hnp, reason: 'attach' });
      // no deprecating RA anywhere on a handover
      expect(events.filter((e) => e.type === 'ra-sent' && data<{ reason: string }>(e).reason === 'deregistration')).toEqual([]);
      await waitFor(`${from} kernel clear`, () => !magKernel(from).rules.includes(hnp) && !magKernel(from).routes.includes(hnp), 3000);
      const k = magKernel(to);
      expect(k.rules).toContain(`from ${hnp} iif acc0`);
      // behind it, uplink from the prefix pool without a binding is dropped on both MAGs
      for (const m of [from, to]) expect(magKernel(m).rules).toMatch(/^150:\s+from 2001:db8:a::\/48 iif acc0 blackhole/m);
      expect(k.routes).toMatch(new RegExp(`^${hnp} via fe80:[0-9a-f:]+ dev acc0`, 'm')); // to the MN's link-local (point-to-point link)
      const ms = Number(BigInt(of(to, 'routes-programmed', t0)[0]!.tNs) - BigInt(ev.tUpNs)) / 1e6;
      console.log(`${from} -> ${to}: MN carrier up to ${to} routes programmed ${ms.toFixed(2)} ms`);
      expect(ping('mn1', CN)).toBe(0);
    }
    expect(mnAddress()).toBe(address);
  });

  it('answers bul and stats', async () => {
    const bul = await bus.request('mag1', 'bul', {}, 5000);
    const entries = (bul.data as { entries: Array<Record<string, unknown>> }).entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ mnId: 'mn1@pmiplab.example', state: 'bound', hnps: [hnp], routes: true, iface: 'acc0', att: 4 });
    expect((await bus.request('mag2', 'bul', {}, 5000)).data).toEqual({ entries: [] });
    const stats = (await bus.request('mag1', 'stats', {}, 5000)).data as Record<string, unknown>;
    expect(stats).toMatchObject({ bul: 1, kernelFailures: 0, transport: { malformed: 0 }, dataplane: { failures: 0 } });
    expect(stats.pbaOk as number).toBeGreaterThanOrEqual(2);
    expect(stats.raSent as number).toBeGreaterThanOrEqual(2);
  });

  it('an MN removed from the policy store is not registered at the next MAG; once back, it is', async () => {
    const store = new PolicyStore(bus);
    const profile = await store.mn('mn1@pmiplab.example');
    expect(profile).not.toBeNull();
    await bus.call('DEL', bus.key(policyKeys.mn('mn1@pmiplab.example')));
    await sleep(1200); // MAGs and the LMA read the store again within 1 s (policyTtlMs)
    try {
      const ev = await links.move({ node: 'mn1', iface: 'wlan0', to: 'mag2' });
      const t0 = BigInt(ev.tStartNs);
      await waitFor('mag2 registration-failed', () => of('mag2', 'registration-failed', t0).length > 0);
      await sleep(300);
      expect(of('mag2', 'routes-programmed', t0)).toEqual([]);
      expect(magKernel('mag2').rules).not.toContain(hnp);
      expect(magKernel('mag2').routes).not.toContain(hnp);
      expect((await bus.request('mag2', 'bul', {}, 5000)).data).toEqual({ entries: [] });
      const failed = data<{ reason: string; status?: number }>(of('mag2', 'registration-failed', t0)[0]);
      expect(failed.reason).toBe('MN not in the policy store');
      expect(of('mag2', 'pbu-sent', t0)).toEqual([]); // refused by the MAG itself: no PBU
    } finally {
      await store.putMn(profile!);
    }
    await sleep(1200);
    const ev = await links.move({ node: 'mn1', iface: 'wlan0', to: 'mag1' });
    await waitFor('mag1 routes-programmed again', () => of('mag1', 'routes-programmed', BigInt(ev.tStartNs)).length > 0);
  });

  it('notices the LMA going silent (peer-state failed) and coming back (up), and keeps its binding', async () => {
    const lma = lab.nodes!.pids().find((p) => p.node === 'lma1')!.pid;
    const t0 = process.hrtime.bigint();
    process.kill(lma, 'SIGSTOP');
    try {
      await waitFor('mag1 peer-state failed', () => of('mag1', 'peer-state', t0).some((e) => data<{ state: string }>(e).state === 'failed'), 8000);
    } finally {
      process.kill(lma, 'SIGCONT');
    }
    await waitFor('mag1 peer-state up', () => of('mag1', 'peer-state', t0).some((e) => data<{ state: string }>(e).state === 'up'), 8000);
    const failed = data<{ peer: string; missed: number }>(of('mag1', 'peer-state', t0).find((e) => data<{ state: string }>(e).state === 'failed'));
    expect(failed).toMatchObject({ peer: '2001:db8:b:1::2', missed: 3 });
    const bul = (await bus.request('mag1', 'bul', {}, 5000)).data as { entries: Array<{ state: string }> };
    expect(bul.entries.map((e) => e.state)).toEqual(['bound']);
  });
});

// netns moves: the MAG end of the MN's veth changes namespace, so mag2's plan
// view never names the interface or the MN; mag2 must find out who came.
describe.skipIf(!root)('MAG with netns moves (the new MAG learns the MN from the link)', () => {
  const RUN2 = 'mg7';
  let lab: Lab;
  let bus: Bus;
  let links: LinkController;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-mag-'));
    const file = path.join(dir, 'netns.yaml');
    const text = readFileSync(path.resolve('topologies/handover-basic.yaml'), 'utf8').replace(/^scenario:/m, 'settings: { l2Move: netns }\nscenario:');
    writeFileSync(file, text);
    lab = await labUp(file, { id: RUN2, progress: silentProgress });
    bus = await Bus.connect(lab.redis!.url, RUN2, 'orchestrator');
    links = new LinkController();
    await links.open(lab.plan);
  }, 90_000);

  afterAll(async () => {
    await links?.close();
    await bus?.close();
    await lab?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('registers the MN at mag2 after a netns move (MN-LL-ID from the answering link-local, HI 4), same prefix, traffic flows', async () => {
    const first = await bus.waitForEvents((e) => e.node === 'mag1' && e.type === 'routes-programmed', 15_000);
    const hnp = (first.data as { hnp: string }).hnp;
    const from = await bus.lastId('events');
    await links.move({ node: 'mn1', iface: 'wlan0', to: 'mag2' });
    const attach = await bus.waitForEvents((e) => e.node === 'mag2' && e.type === 'mn-attach', 10_000, from);
    expect(attach.data).toMatchObject({ iface: 'acc0', mnId: 'mn1@pmiplab.example', llId: lab.plan.nodes.find((n) => n.name === 'mn1')?.interfaces[0]?.mac });
    const pbu = await bus.waitForEvents((e) => e.node === 'mag2' && e.type === 'pbu-sent', 5000, from);
    expect(pbu.data).toMatchObject({ hi: 4, lifetime: 60 });
    const routes = await bus.waitForEvents((e) => e.node === 'mag2' && e.type === 'routes-programmed', 5000, from);
    expect((routes.data as { hnp: string }).hnp).toBe(hnp);
    const r = spawnSync('ip', ['netns', 'exec', `pl${RUN2}-mn1`, 'ping', '-6', '-c', '3', '-i', '0.2', '-W', '1', CN], { encoding: 'utf8' });
    expect(r.status).toBe(0);
  });
});
