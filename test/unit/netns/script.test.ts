import { describe, expect, it } from 'vitest';
import { PmipError } from '../../../orchestrator/errors.js';
import { batchError, firstFailure, jobScript } from '../../../orchestrator/netns/batch.js';
import { bareBatches } from '../../../orchestrator/netns/bench-support.js';
import { parseRate, routeLine } from '../../../orchestrator/netns/objects.js';
import { planScript } from '../../../orchestrator/netns/script.js';
import { parseTopology } from '../../../orchestrator/topology/load.js';
import { planTopology } from '../../../orchestrator/topology/planner.js';
import { hubPlan, makePlan } from '../../support/plans.js';

const airTopology = (settings: string) => `name: air
topology:
  nodes:
    lma1: { kind: lma }
    mag1: { kind: mag }
    mag2: { kind: mag }
    mn1: { kind: mn, interfaces: { wlan0: { att: "802.11" } } }
  links:
    - endpoints: ["mag1:eth0", "lma1:eth1"]
    - endpoints: ["mag2:eth0", "lma1:eth2"]
    - endpoints: ["mn1:wlan0", "mag1:acc0"]
      rate: 10mbit
${settings}
scenario:
  - at: 1s
    action: { type: move, iface: "mn1:wlan0", to: mag2 }
`;
const airPlan = (settings = '') => planTopology(parseTopology(airTopology(settings), 'air.yaml'), '/t/air.yaml', 'h7u');

describe('planScript: air segments (l2Move bridge)', () => {
  it('creates the air namespace, its bridge and one veth per candidate MAG in the root batch', () => {
    const s = planScript(airPlan(), { netem: false });
    expect(s.bridgeNamespaces).toEqual(['plh7u-air3']);
    expect(s.root.filter((l) => l.includes('air3'))).toEqual([
      'netns add plh7u-air3',
      'link add name br0 mtu 1500 netns plh7u-air3 type bridge stp_state 0 forward_delay 0 mcast_snooping 0',
      'link add name wlan0 index 1004 address 02:70:6c:00:03:ec mtu 1500 netns plh7u-mn1 type veth peer name mn index 1007 mtu 1500 netns plh7u-air3',
      'link add name p1 index 1008 mtu 1500 netns plh7u-air3 type veth peer name acc0 index 1005 address 02:00:00:00:00:01 mtu 1500 netns plh7u-mag1',
      'link add name p2 index 1009 mtu 1500 netns plh7u-air3 type veth peer name acc0 index 1006 address 02:00:00:00:00:01 mtu 1500 netns plh7u-mag2',
    ]);
    expect(s.teardown).toContain('netns del plh7u-air3');
  });

  it('configures the bridge without IPv6, MN and first MAG port up, the standby port down', () => {
    const s = planScript(airPlan(), { netem: false });
    expect(s.jobs.find((j) => j.netns === 'plh7u-air3')).toEqual({
      netns: 'plh7u-air3',
      sysctls: [],
      ipLines: [
        'link set dev br0 addrgenmode none',
        'link set dev mn addrgenmode none',
        'link set dev mn master br0 up',
        'link set dev p1 addrgenmode none',
        'link set dev p1 master br0 up',
        'link set dev p2 addrgenmode none',
        'link set dev p2 master br0',
        'link set dev br0 up',
      ],
      tcLines: [],
    });
    const mag2 = s.jobs.find((j) => j.netns === 'plh7u-mag2')!;
    expect(mag2.ipLines).toEqual(expect.arrayContaining(['link set dev acc0 addrgenmode none', 'addr add fe80::1/64 dev acc0 nodad', 'link set dev acc0 up']));
    expect(mag2.sysctls).toEqual(expect.arrayContaining([['net/ipv6/conf/acc0/accept_dad', '0']]));
    // a rated access link shapes every MAG's standby interface too
    expect(mag2.tcLines).toEqual([expect.stringMatching(/^qdisc add dev acc0 root tbf rate 10mbit/)]);
  });

  it('netns mode: no air namespace, the plain veth of today', () => {
    const s = planScript(airPlan('settings: { l2Move: netns }'), { netem: false });
    expect(s.bridgeNamespaces).toEqual([]);
    expect(s.root).toContain(
      'link add name wlan0 index 1004 address 02:70:6c:00:03:ec mtu 1500 netns plh7u-mn1 type veth peer name acc0 index 1005 address 02:00:00:00:00:01 mtu 1500 netns plh7u-mag1',
    );
  });
});

describe('planScript', () => {
  it('creates every namespace, then each veth with both ends in place, named, indexed, with MAC and MTU', () => {
    const s = planScript(makePlan('h4u'), { netem: false });
    expect(s.root).toEqual([
      'netns add plh4u-lma1',
      'netns add plh4u-mag1',
      'netns add plh4u-mag2',
      'netns add plh4u-mn1',
      'netns add plh4u-cn1',
      'link add name eth1 index 10001 address 02:00:00:00:27:11 mtu 1600 netns plh4u-lma1 type veth peer name eth1 index 10002 address 02:00:00:00:27:12 mtu 1600 netns plh4u-mag1',
      'link add name eth2 index 10003 address 02:00:00:00:27:13 mtu 1600 netns plh4u-lma1 type veth peer name eth1 index 10004 address 02:00:00:00:27:14 mtu 1600 netns plh4u-mag2',
      'link add name wlan0 index 10005 address 02:00:00:00:27:15 mtu 1500 netns plh4u-mn1 type veth peer name acc1 index 10006 address 02:00:00:00:27:16 mtu 1500 netns plh4u-mag1',
      'link add name eth3 index 10007 address 02:00:00:00:27:17 mtu 1600 netns plh4u-lma1 type veth peer name eth1 index 10008 address 02:00:00:00:27:18 mtu 1600 netns plh4u-cn1',
    ]);
    expect(s.teardown).toEqual(s.namespaces.map((n) => `netns del ${n}`));
    expect(s.bridgeNamespaces).toEqual([]);
  });

  it('configures each namespace: lo, nodad addresses, links up, routes, sysctls', () => {
    const s = planScript(makePlan('h4u'), { netem: false });
    const job = (ns: string) => s.jobs.find((j) => j.netns === ns);
    expect(job('plh4u-mag1')).toEqual({
      netns: 'plh4u-mag1',
      sysctls: [['net/ipv6/conf/all/forwarding', '1']],
      ipLines: [
        'link set dev lo up',
        'link set dev acc1 addrgenmode none', // only fe80::1 as link-local on a MAG access interface
        'addr add 2001:db8:b:1::2/64 dev eth1 nodad',
        'addr add fe80::1/64 dev acc1 nodad',
        'link set dev eth1 up',
        'link set dev acc1 up',
      ],
      tcLines: [],
    });
    expect(job('plh4u-cn1')?.ipLines).toEqual([
      'link set dev lo up',
      'addr add 2001:db8:c:1::2/64 dev eth1 nodad',
      'link set dev eth1 up',
      'route add ::/0 via 2001:db8:c:1::1',
    ]);
    expect(job('plh4u-mn1')?.sysctls).toEqual([
      ['net/ipv6/conf/wlan0/accept_dad', '0'],
      ['net/ipv6/conf/wlan0/accept_ra', '2'],
    ]);
  });

  it('joins a link of more than two endpoints with a bridge in its own namespace, indexes above the plan', () => {
    const s = planScript(makePlan('h4u', { backhaul: 'bridge' }), { netem: false });
    expect(s.bridgeNamespaces).toEqual(['plh4u-br1']);
    expect(s.root.slice(5, 9)).toEqual([
      'netns add plh4u-br1',
      'link add name br0 mtu 1600 netns plh4u-br1 type bridge mcast_snooping 0',
      'link add name eth1 index 10001 address 02:00:00:00:27:11 mtu 1600 netns plh4u-lma1 type veth peer name p0 index 10008 mtu 1600 netns plh4u-br1',
      'link add name eth1 index 10002 address 02:00:00:00:27:12 mtu 1600 netns plh4u-mag1 type veth peer name p1 index 10009 mtu 1600 netns plh4u-br1',
    ]);
    expect(s.jobs.at(-1)?.ipLines).toEqual([
      'link set dev br0 addrgenmode none',
      'link set dev p0 addrgenmode none',
      'link set dev p0 master br0 up',
      'link set dev p1 addrgenmode none',
      'link set dev p1 master br0 up',
      'link set dev p2 addrgenmode none',
      'link set dev p2 master br0 up',
      'link set dev br0 up',
    ]);
    expect(s.teardown.at(-1)).toBe('netns del plh4u-br1');
  });

  it('gives every veth end in a hub plan a distinct ifindex', () => {
    const plan = hubPlan('h4u', 50);
    const idx = plan.nodes.flatMap((n) => n.interfaces.map((i) => i.ifindex));
    expect(new Set(idx).size).toBe(idx.length);
    const names = plan.nodes.flatMap((n) => n.interfaces.map((i) => i.name));
    expect(names.every((n) => n.length <= 15)).toBe(true);
    expect(bareBatches(plan).root.split('\n').filter(Boolean)).toHaveLength(51 + 50);
  });

  it('shapes both ends of a rated link with tbf', () => {
    const s = planScript(makePlan('h4u', { coreRate: '100mbit' }), { netem: false });
    const line = 'qdisc add dev eth3 root tbf rate 100mbit burst 125000 latency 50ms';
    expect(s.jobs.find((j) => j.netns === 'plh4u-lma1')?.tcLines).toEqual([line]);
    expect(s.jobs.find((j) => j.netns === 'plh4u-cn1')?.tcLines).toEqual([line.replace('eth3', 'eth1')]);
    expect(parseRate('1gbit')).toBe(1e9);
    expect(parseRate('10kbps')).toBe(80_000);
    expect(parseRate('fast')).toBeNull();
    expect(() => planScript(makePlan('h4u', { coreRate: 'fast' }), { netem: false })).toThrow(/not a tc rate/);
  });

  it('refuses delay without netem, naming the link, as bad input', () => {
    let err: unknown;
    try {
      planScript(makePlan('h4u', { coreDelayMs: 10 }), { netem: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PmipError);
    expect((err as PmipError).code).toBe('bad-input');
    expect((err as PmipError).message).toBe(
      'link l4 asks for delay 10ms but this kernel has no netem (sch_netem); signaling delay can be injected in user space by the nodes instead',
    );
    const s = planScript(makePlan('h4u', { coreDelayMs: 10, coreRate: '1gbit' }), { netem: true });
    expect(s.jobs.find((j) => j.netns === 'plh4u-cn1')?.tcLines).toEqual(['qdisc add dev eth1 root netem delay 10ms rate 1gbit']);
  });

  it('routes: default spelled with its family', () => {
    expect(routeLine({ dst: 'default', dev: 'wlan0' })).toBe('route add ::/0 dev wlan0');
    expect(routeLine({ dst: 'default', via: '10.0.0.1' })).toBe('route add 0.0.0.0/0 via 10.0.0.1');
    expect(routeLine({ dst: '2001:db8:1::/48', via: 'fe80::1', dev: 'eth1' })).toBe('route add 2001:db8:1::/48 via fe80::1 dev eth1');
  });
});

describe('batch errors', () => {
  it('names the failing line and the text ip printed', () => {
    const stderr = 'Error: any valid prefix is expected rather than "zz".\nCommand failed -:2\n';
    expect(firstFailure(stderr)).toEqual({ line: 2, text: 'Error: any valid prefix is expected rather than "zz".' });
    const e = batchError('batch of plh4u-cn1', ['link set dev lo up', 'addr add zz dev eth1'], stderr, 1);
    expect(e.message).toBe(
      `batch of plh4u-cn1: line 2 'addr add zz dev eth1' failed: Error: any valid prefix is expected rather than "zz".`,
    );
  });

  it('writes sysctls with shell builtins before the ip batch, and tc from a here-document', () => {
    const text = jobScript({ netns: 'x', sysctls: [['net/ipv6/conf/all/forwarding', '1']], ipLines: ['link set dev lo up'], tcLines: ['qdisc add dev e1 root tbf rate 1mbit burst 3000 latency 50ms'] });
    const lines = text.split('\n');
    expect(lines[1]).toBe("w 'net/ipv6/conf/all/forwarding' '1'");
    expect(lines[2]).toMatch(/^ip -batch - /);
    expect(text).toContain("tc -batch - <<'@@PMIPLAB_EOF' || exit 5\nqdisc add dev e1 root tbf rate 1mbit burst 3000 latency 50ms\n@@PMIPLAB_EOF\n");
  });

  it('refuses a sysctl key that is not a plain name', () => {
    const plan = makePlan('h4u');
    const n = plan.nodes[0];
    if (n) n.sysctls['net/../../etc'] = '1';
    expect(() => planScript(plan, { netem: false })).toThrow(/not a plain sysctl name/);
  });
});
