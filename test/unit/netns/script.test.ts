import { describe, expect, it } from 'vitest';
import { PmipError } from '../../../orchestrator/errors.js';
import { batchError, firstFailure, jobScript } from '../../../orchestrator/netns/batch.js';
import { bareBatches } from '../../../orchestrator/netns/bench-support.js';
import { parseRate, routeLine } from '../../../orchestrator/netns/objects.js';
import { planScript } from '../../../orchestrator/netns/script.js';
import { hubPlan, makePlan } from '../../support/plans.js';

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
