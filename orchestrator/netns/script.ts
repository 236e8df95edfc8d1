import { badInput } from '../errors.js';
import type { Plan, PlanNode } from '../topology/plan.js';
import { AirSegment, Bridge, Namespace, NodeConfig, Shaper, VethPair, linkEnds, magAccessIfaces, type VethEnd } from './objects.js';

// Plan -> the exact text that builds it. Pure: no I/O, so it is unit-tested
// line by line and the benchmark can run the same text bare.

/** What one namespace needs after the root batch: sysctls, then an ip batch, then a tc batch. */
export interface NsJob {
  netns: string;
  sysctls: Array<[string, string]>; // [path under /proc/sys, value]
  ipLines: string[];
  tcLines: string[];
}

export interface BuildScript {
  /** `ip -batch` in the root namespace: namespaces, veth pairs, bridges. */
  root: string[];
  /** one job per namespace, run in parallel after the root batch */
  jobs: NsJob[];
  namespaces: string[]; // node namespaces
  /** shared backhaul bridges, then the air segments of access links (l2Move bridge) */
  bridgeNamespaces: string[];
  /** `ip -force -batch` in the root namespace removing everything above */
  teardown: string[];
}

export interface KernelCaps {
  netem: boolean;
}

/** Refuse what this kernel cannot do before anything is built (bad input, never half-built). */
export function checkPlanAgainstKernel(plan: Plan, caps: KernelCaps): void {
  if (caps.netem) return;
  for (const link of plan.links) {
    const asks: string[] = [];
    if (link.delayMs) asks.push(`delay ${link.delayMs}ms`);
    if (link.lossPct) asks.push(`loss ${link.lossPct}%`);
    if (asks.length) {
      throw badInput(
        `link ${link.id} asks for ${asks.join(' and ')} but this kernel has no netem (sch_netem); ` +
          'signaling delay can be injected in user space by the nodes instead',
        'remove delayMs/lossPct from the link, or run on a kernel with CONFIG_NET_SCH_NETEM',
        { link: link.id },
      );
    }
  }
}

/** Namespaces holding only a bridge: shared backhaul segments, then air segments (l2Move bridge). */
export function bridgeNamespacesOf(plan: Plan): string[] {
  return [...plan.links.flatMap((l) => (l.bridge ? [l.bridge.netns] : [])), ...plan.links.flatMap((l) => (l.air ? [l.air.netns] : []))];
}

/** Bridge port names inside a bridge namespace: p0, p1, ... in endpoint order. */
export const bridgePortName = (i: number) => `p${i}`;

export function planScript(plan: Plan, caps: KernelCaps): BuildScript {
  checkPlanAgainstKernel(plan, caps);
  const byNode = new Map<string, PlanNode>(plan.nodes.map((n) => [n.name, n]));
  const root: string[] = [];
  const jobs = new Map<string, NsJob>();
  const job = (netns: string): NsJob => {
    let j = jobs.get(netns);
    if (!j) jobs.set(netns, (j = { netns, sysctls: [], ipLines: [], tcLines: [] }));
    return j;
  };

  const namespaces = plan.nodes.map((n) => n.netns);
  const bridgeNamespaces = bridgeNamespacesOf(plan);
  for (const ns of [...namespaces, ...bridgeNamespaces]) root.push(...new Namespace(ns).addLines());

  // Bridge ports need indexes of their own, distinct from every planned one.
  let nextIndex = 1 + Math.max(0, ...plan.nodes.flatMap((n) => n.interfaces.map((i) => i.ifindex)));
  const bridges: Array<Bridge | AirSegment> = [];
  const vethEnd = (e: { node: PlanNode; iface: PlanNode['interfaces'][number] }): VethEnd => ({
    netns: e.node.netns,
    name: e.iface.name,
    ifindex: e.iface.ifindex,
    mac: e.iface.mac,
    mtu: e.iface.mtu,
  });
  for (const link of plan.links) {
    let ends = linkEnds(link, byNode);
    if (link.air) {
      const air = link.air;
      const mn = ends.find((e) => e.node.kind === 'mn');
      if (!mn) throw badInput(`link ${link.id} has an air segment but no MN end`);
      const mags = linkEnds({ ...link, endpoints: air.ports.map((p) => ({ node: p.mag, iface: p.iface })) }, byNode);
      const seg = new AirSegment(air, link.mtu, vethEnd(mn), mags.map(vethEnd));
      root.push(...seg.createLines());
      bridges.push(seg);
      ends = [mn, ...mags]; // shaping below applies to every MAG's standby interface too
    } else if (ends.length === 2 && !link.bridge) {
      const [a, b] = ends as [(typeof ends)[0], (typeof ends)[0]];
      const pair = new VethPair(
        { netns: a.node.netns, name: a.iface.name, ifindex: a.iface.ifindex, mac: a.iface.mac, mtu: a.iface.mtu },
        { netns: b.node.netns, name: b.iface.name, ifindex: b.iface.ifindex, mac: b.iface.mac, mtu: b.iface.mtu },
      );
      root.push(...pair.createLines());
    } else {
      if (!link.bridge) throw badInput(`link ${link.id} has ${ends.length} endpoints but no bridge in the plan`);
      const br = new Bridge(link.bridge.netns, link.bridge.name, link.mtu, ends.map((_, i) => bridgePortName(i)));
      root.push(...br.createLines());
      ends.forEach((e, i) => {
        const pair = new VethPair(
          { netns: e.node.netns, name: e.iface.name, ifindex: e.iface.ifindex, mac: e.iface.mac, mtu: e.iface.mtu },
          { netns: br.netns, name: bridgePortName(i), ifindex: nextIndex++, mtu: e.iface.mtu },
        );
        root.push(...pair.createLines());
      });
      bridges.push(br);
    }
    // Shaping on both (all) ends: netem when present (it has its own rate), else tbf.
    for (const e of ends) {
      const j = job(e.node.netns);
      if (caps.netem && (link.delayMs || link.lossPct)) {
        let line = `qdisc add dev ${e.iface.name} root netem`;
        if (link.delayMs) line += ` delay ${link.delayMs}ms`;
        if (link.lossPct) line += ` loss ${link.lossPct}%`;
        if (link.rate) line += ` rate ${link.rate}`;
        j.tcLines.push(line);
      } else if (link.rate) {
        j.tcLines.push(...new Shaper(e.iface.name, link.rate, e.iface.mtu).tcLines());
      }
    }
  }

  for (const node of plan.nodes) {
    const cfg = new NodeConfig(node, magAccessIfaces(node, plan.links));
    const j = job(node.netns);
    j.sysctls.push(...cfg.sysctlWrites());
    j.ipLines.push(...cfg.configLines());
  }
  for (const br of bridges) job(br instanceof AirSegment ? br.air.netns : br.netns).ipLines.push(...br.configLines());

  const teardown = [...namespaces, ...bridgeNamespaces].flatMap((ns) => new Namespace(ns).delLines());
  // node namespaces first, in plan order, then bridges
  const order = [...namespaces, ...bridgeNamespaces];
  const sortedJobs = order.flatMap((ns) => {
    const j = jobs.get(ns);
    return j ? [j] : [];
  });
  return { root, jobs: sortedJobs, namespaces, bridgeNamespaces, teardown };
}
