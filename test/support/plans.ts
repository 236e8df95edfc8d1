import { nsName } from '../../orchestrator/run/paths.js';
import { Plan, type PlanInterface, type PlanLink, PlanNode } from '../../orchestrator/topology/plan.js';

// Hand-made Plans for tests and benchmarks, until the planner lands. Every
// interface gets a plan-wide distinct ifindex and a MAC derived from it.

const mac = (ifindex: number) => {
  const h = ifindex.toString(16).padStart(8, '0');
  return `02:00:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}:${h.slice(6, 8)}`;
};

class PlanBuilder {
  private nextIndex = 10001;
  private nextLink = 1;
  readonly nodes = new Map<string, PlanNode>();
  readonly links: PlanLink[] = [];
  constructor(readonly runId: string) {}

  node(name: string, kind: PlanNode['kind'], sysctls: Record<string, string> = {}): PlanNode {
    // parsed, so each kind gets its options' shape (an MN needs its MN-ID)
    const n = PlanNode.parse({ name, kind, netns: nsName(this.runId, name), interfaces: [], routes: [], sysctls, options: kind === 'mn' ? { mnId: `${name}@pmiplab.example` } : {} });
    this.nodes.set(name, n);
    return n;
  }

  link(
    kind: PlanLink['kind'],
    ends: Array<{ node: string; iface: string; addresses: string[] }>,
    extra: Partial<Pick<PlanLink, 'subnet' | 'rate' | 'delayMs' | 'lossPct' | 'mtu'>> = {},
  ): PlanLink {
    const id = `l${this.nextLink++}`;
    const mtu = extra.mtu ?? (kind === 'access' ? 1500 : 1600);
    for (const e of ends) {
      const ifindex = this.nextIndex++;
      const i: PlanInterface = { name: e.iface, ifindex, mac: mac(ifindex), mtu, addresses: e.addresses, link: id };
      const n = this.nodes.get(e.node);
      if (!n) throw new Error(`test plan: no node ${e.node}`);
      n.interfaces.push(i);
    }
    const link: PlanLink = { id, kind, endpoints: ends.map((e) => ({ node: e.node, iface: e.iface })), mtu, ...extra };
    if (ends.length > 2) link.bridge = { netns: nsName(this.runId, `br${this.links.length + 1}`), name: 'br0' };
    this.links.push(link);
    return link;
  }

  plan(name: string): Plan {
    return Plan.parse({
      version: 1,
      runId: this.runId,
      name,
      source: `/test/${name}.yaml`,
      pools: { backhaul: '2001:db8:b::/48', hnp: '2001:db8:1000::/36', cn: '2001:db8:c::/48' },
      nodes: [...this.nodes.values()],
      links: this.links,
      scenario: [],
    });
  }
}

export interface BasicShape {
  /** 'p2p': one veth per MAG-LMA link; 'bridge': LMA and both MAGs on one bridged backhaul LAN */
  backhaul?: 'p2p' | 'bridge';
  /** tc rate on the core link */
  coreRate?: string;
  /** delay on the core link (refused without netem) */
  coreDelayMs?: number;
}

/**
 * 1 LMA, 2 MAGs, 1 MN (on mag1), 1 CN behind the LMA.
 * p2p:    l1 lma1:eth1 2001:db8:b:1::1 - mag1:eth1 ::2;  l2 lma1:eth2 2001:db8:b:2::1 - mag2:eth1 ::2
 * bridge: l1 lma1:eth1 2001:db8:b:1::1, mag1:eth1 ::2, mag2:eth1 ::3 (bridge namespace pl<id>-br1)
 * then:   access mn1:wlan0 (no address) - mag1:acc1 fe80::1/64;  core lma1:eth3 2001:db8:c:1::1 - cn1:eth1 ::2
 */
export function makePlan(runId: string, shape: BasicShape = {}): Plan {
  const b = new PlanBuilder(runId);
  const fwd = { 'net.ipv6.conf.all.forwarding': '1' };
  b.node('lma1', 'lma', fwd);
  b.node('mag1', 'mag', fwd);
  b.node('mag2', 'mag', fwd);
  // the MN's link-local must not sit tentative (1 s) after each carrier change in tests
  b.node('mn1', 'mn', { 'net.ipv6.conf.wlan0.accept_dad': '0', 'net.ipv6.conf.wlan0.accept_ra': '2' });
  b.node('cn1', 'cn');
  if (shape.backhaul === 'bridge') {
    b.link(
      'backhaul',
      [
        { node: 'lma1', iface: 'eth1', addresses: ['2001:db8:b:1::1/64'] },
        { node: 'mag1', iface: 'eth1', addresses: ['2001:db8:b:1::2/64'] },
        { node: 'mag2', iface: 'eth1', addresses: ['2001:db8:b:1::3/64'] },
      ],
      { subnet: '2001:db8:b:1::/64' },
    );
  } else {
    b.link('backhaul', [
      { node: 'lma1', iface: 'eth1', addresses: ['2001:db8:b:1::1/64'] },
      { node: 'mag1', iface: 'eth1', addresses: ['2001:db8:b:1::2/64'] },
    ], { subnet: '2001:db8:b:1::/64' });
    b.link('backhaul', [
      { node: 'lma1', iface: 'eth2', addresses: ['2001:db8:b:2::1/64'] },
      { node: 'mag2', iface: 'eth1', addresses: ['2001:db8:b:2::2/64'] },
    ], { subnet: '2001:db8:b:2::/64' });
  }
  b.link('access', [
    { node: 'mn1', iface: 'wlan0', addresses: [] },
    { node: 'mag1', iface: 'acc1', addresses: ['fe80::1/64'] },
  ]);
  const core: Parameters<PlanBuilder['link']>[2] = { subnet: '2001:db8:c:1::/64' };
  if (shape.coreRate) core.rate = shape.coreRate;
  if (shape.coreDelayMs) core.delayMs = shape.coreDelayMs;
  b.link('core', [
    { node: 'lma1', iface: 'eth3', addresses: ['2001:db8:c:1::1/64'] },
    { node: 'cn1', iface: 'eth1', addresses: ['2001:db8:c:1::2/64'] },
  ], core);
  b.nodes.get('cn1')?.routes.push({ dst: 'default', via: '2001:db8:c:1::1' });
  return b.plan('basic');
}

/** A hub and N leaves, one veth each, a /64 per link and a route back on each leaf (benchmarks). */
export function hubPlan(runId: string, n: number): Plan {
  const b = new PlanBuilder(runId);
  b.node('hub', 'lma', { 'net.ipv6.conf.all.forwarding': '1' });
  for (let i = 1; i <= n; i++) {
    const leaf = `n${i}`;
    b.node(leaf, 'cn');
    const hex = i.toString(16);
    b.link('core', [
      { node: 'hub', iface: `e${i}`, addresses: [`2001:db8:${hex}::1/64`] },
      { node: leaf, iface: 'eth0', addresses: [`2001:db8:${hex}::2/64`] },
    ]);
    b.nodes.get(leaf)?.routes.push({ dst: 'default', via: `2001:db8:${hex}::1` });
  }
  return b.plan(`hub${n}`);
}
