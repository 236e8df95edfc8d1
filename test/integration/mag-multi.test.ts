import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus, type BusEvent } from '../../nodes/runtime/bus.js';
import { silentProgress } from '../../orchestrator/cli/progress.js';
import { type Lab, labUp } from '../../orchestrator/lab/lab.js';
import { isRoot } from '../../orchestrator/system/tools.js';
import { eventWaiter } from '../support/wait.js';

// Root only: an MN with three interfaces (seed 001 section 4 and the
// multi-MAG case, run id mg9): wlan0 and eth1 on mag1 (two sessions on one
// MAG, each with its own access interface, prefix, routes and RA), eth2 on
// mag2. Traffic from the CN to each interface's address arrives on that
// interface.
const root = isRoot();
if (!root) console.warn('test/integration/mag-multi.test.ts skipped: needs root (network namespaces)');

const RUN = 'mg9';
const CN = '2001:db8:c:3::2';

const TOPOLOGY = `name: multi-if
topology:
  nodes:
    lma1: { kind: lma }
    mag1: { kind: mag }
    mag2: { kind: mag }
    mn1:
      kind: mn
      interfaces:
        wlan0: { att: "802.11" }
        eth1: { att: "802.3" }
        eth2: { att: e-utran }
    cn1: { kind: cn }
  links:
    - endpoints: ["mag1:eth0", "lma1:eth1"]
    - endpoints: ["mag2:eth0", "lma1:eth2"]
    - endpoints: ["lma1:eth0", "cn1:eth0"]
    - endpoints: ["mn1:wlan0", "mag1:acc0"]
    - endpoints: ["mn1:eth1", "mag1:acc1"]
    - endpoints: ["mn1:eth2", "mag2:acc0"]
`;

interface BulJson {
  llId: string;
  iface: string;
  state: string;
  hnps: string[];
  routes: boolean;
}

describe.skipIf(!root)('MAG with an MN of several interfaces (two on one MAG, one on another)', () => {
  let lab: Lab;
  let bus: Bus;
  let dir = '';
  const events: BusEvent[] = [];
  let stream: ReturnType<Bus['events']> | undefined;

  const ns = (node: string) => `pl${RUN}-${node}`;
  const of = (node: string, type: string) => events.filter((e) => e.node === node && e.type === type);
  const waitFor = eventWaiter(events, { timeoutMs: 15_000, everyMs: 50 });
  const macOf = (iface: string) => lab.plan.nodes.find((n) => n.name === 'mn1')!.interfaces.find((i) => i.name === iface)!.mac.toLowerCase();
  const globalOf = (iface: string, hnp: string) => {
    const out = execFileSync('ip', ['-n', ns('mn1'), '-6', '-o', 'addr', 'show', 'dev', iface, 'scope', 'global'], { encoding: 'utf8' });
    const head = hnp.replace(/::\/64$/, ':');
    return /inet6 ([0-9a-f:]+)\//.exec(out.split('\n').find((l) => l.includes(head)) ?? '')?.[1];
  };
  const rxPackets = (iface: string) => {
    const [dev] = JSON.parse(execFileSync('ip', ['-n', ns('mn1'), '-j', '-s', 'link', 'show', 'dev', iface], { encoding: 'utf8' })) as Array<{ stats64: { rx: { packets: number } } }>;
    return dev!.stats64.rx.packets;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pmiplab-magm-'));
    const file = path.join(dir, 'multi.yaml');
    writeFileSync(file, TOPOLOGY);
    lab = await labUp(file, { id: RUN, progress: silentProgress });
    bus = await Bus.connect(lab.redis!.url, RUN, 'orchestrator');
    stream = bus.events('0-0');
    void (async () => {
      for await (const e of stream) events.push(e);
    })();
  }, 90_000);

  afterAll(async () => {
    stream?.close();
    await bus?.close();
    await lab?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('two interfaces on mag1 are two sessions: own MN-LL-ID, access interface, prefix, routes and RA', async () => {
    await waitFor('two sessions at mag1 and one at mag2', () => of('mag1', 'routes-programmed').length >= 2 && of('mag2', 'routes-programmed').length >= 1);
    const bul = ((await bus.request('mag1', 'bul', {}, 5000)).data as { entries: BulJson[] }).entries;
    expect(bul).toHaveLength(2);
    const wlan = bul.find((e) => e.llId === macOf('wlan0'));
    const eth = bul.find((e) => e.llId === macOf('eth1'));
    expect(wlan).toMatchObject({ iface: 'acc0', state: 'bound', routes: true });
    expect(eth).toMatchObject({ iface: 'acc1', state: 'bound', routes: true });
    expect(wlan!.hnps).toHaveLength(1);
    expect(eth!.hnps).toHaveLength(1);
    expect(wlan!.hnps[0]).not.toBe(eth!.hnps[0]);
    // HI 1 for each: a new interface each, not a refresh or handover of the other
    const pbus = of('mag1', 'pbu-sent').map((e) => e.data as { llId: string; hi: number; attempt: number });
    expect(pbus.filter((p) => p.llId === macOf('wlan0'))[0]?.hi).toBe(1);
    expect(pbus.filter((p) => p.llId === macOf('eth1'))[0]?.hi).toBe(1);
    const routes = execFileSync('ip', ['-n', ns('mag1'), '-6', 'route'], { encoding: 'utf8' });
    expect(routes).toMatch(new RegExp(`^${wlan!.hnps[0]} via fe80:[0-9a-f:]+ dev acc0`, 'm'));
    expect(routes).toMatch(new RegExp(`^${eth!.hnps[0]} via fe80:[0-9a-f:]+ dev acc1`, 'm'));
    const ras = of('mag1', 'ra-sent').map((e) => e.data as { iface: string; hnp: string; llId: string });
    expect(ras.some((r) => r.iface === 'acc0' && r.hnp === wlan!.hnps[0] && r.llId === macOf('wlan0'))).toBe(true);
    expect(ras.some((r) => r.iface === 'acc1' && r.hnp === eth!.hnps[0] && r.llId === macOf('eth1'))).toBe(true);
    expect(ras.some((r) => r.iface === 'acc0' && r.hnp === eth!.hnps[0])).toBe(false); // a prefix is advertised on its own interface only
  });

  it("traffic to each interface's address arrives on that interface, at both MAGs", async () => {
    const sessions = [
      ...((await bus.request('mag1', 'bul', {}, 5000)).data as { entries: BulJson[] }).entries,
      ...((await bus.request('mag2', 'bul', {}, 5000)).data as { entries: BulJson[] }).entries,
    ];
    for (const mnIface of ['wlan0', 'eth1', 'eth2']) {
      const s = sessions.find((e) => e.llId === macOf(mnIface));
      expect(s, mnIface).toBeDefined();
      const hnp = s!.hnps[0] as string;
      await waitFor(`${mnIface} address in ${hnp}`, () => globalOf(mnIface, hnp) !== undefined, 10_000);
      const addr = globalOf(mnIface, hnp) as string;
      const before = rxPackets(mnIface);
      // 20 echo requests from the CN: each reaches this interface (replies may leave by any interface: weak host)
      spawnSync('ip', ['netns', 'exec', ns('cn1'), 'ping', '-6', '-c', '20', '-i', '0.01', '-W', '1', addr], { encoding: 'utf8' });
      const got = rxPackets(mnIface) - before;
      console.log(`${mnIface} (${s!.iface} at ${sessions.indexOf(s!) < 2 ? 'mag1' : 'mag2'}): ${got} packets in for 20 echo requests to ${addr}`);
      expect(got).toBeGreaterThanOrEqual(20);
    }
  });
});
