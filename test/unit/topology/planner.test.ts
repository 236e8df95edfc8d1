import { describe, expect, it } from 'vitest';
import ipaddr from 'ipaddr.js';
import { loadTopology, parseTopology } from '../../../orchestrator/topology/load.js';
import { Plan } from '../../../orchestrator/topology/plan.js';
import { planTopology } from '../../../orchestrator/topology/planner.js';

const TOPOLOGIES = ['topologies/handover-basic.yaml', 'topologies/sample-domain.yaml', 'test/fixtures/topologies/good-minimal.yaml'];
const plan = (file: string, runId = 'abc123') => planTopology(loadTopology(file), file, runId);

describe.each(TOPOLOGIES)('plan of %s', (file) => {
  it('is a valid Plan and deterministic', () => {
    const a = plan(file);
    expect(Plan.safeParse(a).success).toBe(true);
    expect(JSON.stringify(plan(file))).toBe(JSON.stringify(a));
  });

  it('changes only netns names with the run id', () => {
    const a = JSON.stringify(plan(file, 'aaaa1111'));
    const b = JSON.stringify(plan(file, 'bbbb2222'));
    expect(b.replaceAll('plbbbb2222-', 'plaaaa1111-').replace('"runId":"bbbb2222"', '"runId":"aaaa1111"')).toBe(a);
    expect(plan(file, 'bbbb2222').nodes.every((n) => n.netns === `plbbbb2222-${n.name}`)).toBe(true);
  });

  it('gives every interface a distinct ifindex from 1000 up', () => {
    const indexes = plan(file).nodes.flatMap((n) => n.interfaces.map((i) => i.ifindex));
    expect(new Set(indexes).size).toBe(indexes.length);
    expect(Math.min(...indexes)).toBe(1000);
  });

  it('puts every global address inside its pool and the right subnet', () => {
    const p = plan(file);
    const pool = (cidr: string) => ipaddr.parseCIDR(cidr) as [ipaddr.IPv6, number];
    for (const link of p.links) {
      const addrs = link.endpoints.flatMap((e) =>
        p.nodes.find((n) => n.name === e.node)!.interfaces.find((i) => i.name === e.iface && i.link === link.id)!.addresses,
      );
      if (link.kind === 'access') {
        expect(link.subnet).toBeUndefined();
        expect(addrs).toEqual(['fe80::1/64']); // only the MAG end, link-local
        continue;
      }
      const subnet = pool(link.subnet!);
      expect(pool(link.subnet!)[0].match(pool(link.kind === 'core' ? p.pools.cn : p.pools.backhaul))).toBe(true);
      expect(addrs).toHaveLength(link.endpoints.length);
      for (const a of addrs) expect(ipaddr.parseCIDR(a)[0].match(subnet)).toBe(true);
      expect(new Set(addrs).size).toBe(addrs.length);
    }
    // no fixed prefix in these files: the LMA allocates from pools.hnp
    for (const n of p.nodes.filter((x) => x.kind === 'mn')) {
      const ifs = n.options.interfaces as Record<string, { hnp?: string }>;
      for (const v of Object.values(ifs)) expect(v.hnp).toBeUndefined();
    }
  });

  it('follows the role rules: access MAC, MTUs, sysctls, routes', () => {
    const p = plan(file);
    const macs = new Set<string>();
    for (const n of p.nodes) {
      for (const i of n.interfaces) {
        const link = p.links.find((l) => l.id === i.link)!;
        if (n.kind === 'mag' && link.kind === 'access') expect(i.mac).toBe('02:00:00:00:00:01');
        else {
          expect(macs.has(i.mac)).toBe(false);
          macs.add(i.mac);
          expect(Number.parseInt(i.mac.slice(0, 2), 16) & 0x03).toBe(0x02); // locally administered unicast
        }
        expect(i.mtu).toBe(link.mtu);
        if (n.kind === 'mn') expect(i.att).toBeTypeOf('number');
      }
      const router = n.kind === 'mag' || n.kind === 'lma';
      expect(n.sysctls['net.ipv6.conf.all.forwarding']).toBe(router ? '1' : '0');
      if (router) expect(n.sysctls['net.ipv6.conf.default.accept_dad']).toBe('0');
      if (n.kind === 'mn') for (const i of n.interfaces) expect(n.sysctls[`net.ipv6.conf.${i.name}.accept_ra`]).toBe('2');
      if (n.kind === 'cn') expect(n.routes[0]).toMatchObject({ dst: 'default' });
      if (n.kind === 'mag') expect(n.routes.map((r) => r.dst)).toContain(p.pools.cn);
    }
    for (const l of p.links) {
      // sample-domain's mag3 sets access.mtu 1400; everything else uses the defaults
      const mag3 = l.endpoints.some((e) => e.node === 'mag3') && file.includes('sample-domain');
      expect(l.mtu).toBe(l.kind !== 'access' ? 1600 : mag3 ? 1400 : 1500);
    }
  });
});

describe('planner details', () => {
  it('numbers subnets by link and hosts by endpoint position', () => {
    const p = plan('topologies/handover-basic.yaml');
    expect(p.links.map((l) => l.subnet ?? '-')).toEqual(['2001:db8:b:1::/64', '2001:db8:b:2::/64', '2001:db8:c:3::/64', '-']);
    const mag1 = p.nodes.find((n) => n.name === 'mag1')!;
    expect(mag1.interfaces[0]?.addresses).toEqual(['2001:db8:b:1::1/64']);
    expect(mag1.options).toMatchObject({ lma: 'lma1', lmaAddress: '2001:db8:b:1::2', proxyCoa: '2001:db8:b:1::1' });
    const cn1 = p.nodes.find((n) => n.name === 'cn1')!;
    expect(cn1.routes).toEqual([{ dst: 'default', via: '2001:db8:c:3::1', dev: 'eth0' }]);
    expect(p.nodes.find((n) => n.name === 'mn1')!.options).toMatchObject({
      mnId: 'mn1@pmiplab.example',
      interfaces: { wlan0: { att: 4, llId: '02:70:6c:00:03:ee' } },
    });
  });

  it('puts a shared backhaul segment on a bridge in its own namespace', () => {
    const p = plan('topologies/sample-domain.yaml', 'r1');
    const seg = p.links.find((l) => l.endpoints.length > 2)!;
    expect(seg.bridge).toEqual({ netns: 'plr1-br-l1', name: 'br-l1' });
    expect(p.nodes.map((n) => n.netns)).not.toContain(seg.bridge!.netns);
    expect(p.links.find((l) => l.rate)?.rate).toBe('100mbit');
  });

  it('l2Move bridge: an air segment per access link, a standby interface per candidate MAG', () => {
    const file = parseTopology(
      `name: air
topology:
  nodes:
    lma1: { kind: lma }
    mag1: { kind: mag }
    mag2: { kind: mag }
    mag3: { kind: mag }
    mag4: { kind: mag }
    mn1: { kind: mn, interfaces: { wlan0: { att: "802.11" } } }
    mn2: { kind: mn, interfaces: { wlan0: { att: "802.11" } } }
  links:
    - endpoints: ["mag1:eth0", "lma1:eth1"]
    - endpoints: ["mag2:eth0", "lma1:eth2"]
    - endpoints: ["mag3:eth0", "lma1:eth3"]
    - endpoints: ["mag4:eth0", "lma1:eth4"]
    - endpoints: ["mn1:wlan0", "mag1:acc0"]
    - endpoints: ["mn2:wlan0", "mag4:acc0"]
scenario:
  - at: 1s
    repeat: { count: 3, every: 1s }
    action: { type: move, iface: "mn1:wlan0", to: [mag2, mag3, mag1] }
  - at: 5s
    action: { type: move, iface: "mn2:wlan0", to: mag2 }
  - at: 6s
    action: { type: move, iface: "mn2:wlan0", to: mag1, toIface: wl-mn2 }
`,
      'air.yaml',
    );
    const p = planTopology(file, 'air.yaml', 'h7p');
    expect(p.settings).toEqual({ l2Move: 'bridge', transport: 'udp', tunnel: 'auto' });
    const l5 = p.links.find((l) => l.id === 'l5')!;
    expect(l5.air).toMatchObject({
      netns: 'plh7p-air5',
      bridge: 'br0',
      mnPort: { name: 'mn' },
      ports: [
        { mag: 'mag1', iface: 'acc0', port: 'p1' },
        { mag: 'mag2', iface: 'acc0', port: 'p2' },
        { mag: 'mag3', iface: 'acc0', port: 'p3' },
      ],
    });
    // mn2 goes to mag2 as acc0 (free there once mn1 left, for scenario.ts), but in bridge mode mn1's
    // standby acc0 stays on mag2: a free acc<k>; then to mag1 under the name the step gives
    expect(p.links.find((l) => l.id === 'l6')!.air?.ports.map((x) => `${x.mag}:${x.iface}`)).toEqual(['mag4:acc0', 'mag2:acc1', 'mag1:wl-mn2']);
    const node = (n: string) => p.nodes.find((x) => x.name === n)!;
    // standby interfaces are ordinary MAG interfaces on the access link: fixed MAC, fe80::1, MTU, sysctls
    const acc1 = node('mag2').interfaces.find((i) => i.name === 'acc1')!;
    expect(acc1).toMatchObject({ mac: '02:00:00:00:00:01', addresses: ['fe80::1/64'], mtu: 1500, link: 'l6' });
    expect(node('mag2').sysctls['net.ipv6.conf.acc1.accept_dad']).toBe('0');
    expect(node('mag2').interfaces.map((i) => i.name)).toEqual(['eth0', 'acc0', 'acc1']);
    expect(node('mag1').interfaces.map((i) => i.name)).toEqual(['eth0', 'acc0', 'wl-mn2']);
    // every index distinct: interfaces, air ports and MN ports
    const idx = [
      ...p.nodes.flatMap((n) => n.interfaces.map((i) => i.ifindex)),
      ...p.links.flatMap((l) => (l.air ? [l.air.mnPort.ifindex, ...l.air.ports.map((x) => x.ifindex)] : [])),
    ];
    expect(new Set(idx).size).toBe(idx.length);
    // the links' own endpoints keep the indexes they have in netns mode
    const netns = planTopology({ ...file, settings: { ...file.settings, l2Move: 'netns' } }, 'air.yaml', 'h7p');
    expect(netns.links.every((l) => l.air === undefined)).toBe(true);
    for (const n of netns.nodes) {
      expect(node(n.name).interfaces.slice(0, n.interfaces.length)).toEqual(n.interfaces);
    }
    expect(Plan.safeParse(p).success).toBe(true);
  });

  it('refuses a node named like an air namespace', () => {
    expect(() =>
      parseTopology(
        `name: t
topology:
  nodes:
    lma1: { kind: lma }
    mag1: { kind: mag }
    mn1: { kind: mn, interfaces: { wlan0: { att: 802.11 } } }
    air2: { kind: cn }
  links:
    - endpoints: ["mag1:eth0", "lma1:eth0"]
    - endpoints: ["mn1:wlan0", "mag1:acc0"]
    - endpoints: ["lma1:eth1", "air2:eth0"]
`,
        't.yaml',
      ),
    ).toThrow(/air2: node name collides with the air namespace/);
  });

  it('passes role options, fixed prefixes and signaling impairment to the plan; refuses unknown options', () => {
    const text = `name: t
topology:
  nodes:
    lma1: { kind: lma, options: { minDelayBeforeBceDeleteMs: 200, timestamps: true } }
    mag1: { kind: mag, options: { retransmitInitialMs: 20 } }
    mn1: { kind: mn, interfaces: { wlan0: { att: 802.11, hnp: "2001:db8:a:7::/64" } } }
  links:
    - { endpoints: ["mag1:eth0", "lma1:eth0"], signaling: { delay: 20ms, loss: "30%", messages: [pba] } }
    - endpoints: ["mn1:wlan0", "mag1:acc0"]
settings: { transport: raw }
`;
    const p = planTopology(parseTopology(text, 't.yaml'), 't.yaml', 'r1');
    const byName = (n: string) => p.nodes.find((x) => x.name === n)!;
    expect(byName('lma1').options).toMatchObject({ minDelayBeforeBceDeleteMs: 200, timestamps: true, mags: [{ name: 'mag1' }] });
    expect(byName('mag1').options).toMatchObject({ retransmitInitialMs: 20, lma: 'lma1', proxyCoa: '2001:db8:b:1::1' });
    expect(byName('mn1').options).toMatchObject({ interfaces: { wlan0: { hnp: '2001:db8:a:7::/64' } } });
    expect(p.links[0]?.signaling).toEqual({ delayMs: 20, lossPct: 30, messages: ['pba'] });
    expect(p.settings).toMatchObject({ transport: 'raw' });
    expect(() => parseTopology(text.replace('retransmitInitialMs', 'retransmitInitalMs'), 't.yaml')).toThrow(/mag1\.options\.retransmitInitalMs: unknown field/);
  });

  it('refuses a bad run id', () => {
    expect(() => plan('topologies/handover-basic.yaml', 'Not-Valid')).toThrow(/run id/);
  });
});
