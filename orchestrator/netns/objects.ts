import { badInput } from '../errors.js';
import type { PlanAir, PlanInterface, PlanLink, PlanNode, PlanRoute } from '../topology/plan.js';

// Kernel objects of a run as Mininet-style objects, but at batched speed:
// constructors only keep their data; methods return `ip -batch` / `tc -batch`
// lines and never run anything. build.ts decides where each line is sent.

/** A network namespace (a node's or a bridge's). Lines for the root batch. */
export class Namespace {
  constructor(readonly name: string) {}
  addLines(): string[] {
    return [`netns add ${this.name}`];
  }
  delLines(): string[] {
    return [`netns del ${this.name}`];
  }
}

export interface VethEnd {
  netns: string;
  name: string;
  ifindex?: number; // distinct on both ends (kernel.md: shared indexes delay carrier by up to 1 s)
  mac?: string;
  mtu: number;
}

/** One veth pair, each end created directly in its namespace with its planned name, index and MAC. */
export class VethPair {
  constructor(
    readonly a: VethEnd,
    readonly b: VethEnd,
  ) {}
  createLines(): string[] {
    return [`link add ${VethPair.end(this.a)} type veth peer ${VethPair.end(this.b)}`];
  }
  private static end(e: VethEnd): string {
    const parts = [`name ${e.name}`];
    if (e.ifindex !== undefined) parts.push(`index ${e.ifindex}`);
    if (e.mac !== undefined) parts.push(`address ${e.mac}`);
    parts.push(`mtu ${e.mtu}`, `netns ${e.netns}`);
    return parts.join(' ');
  }
}

/** A Linux bridge alone in its namespace joining the endpoints of a link with more than two ends. */
export class Bridge {
  constructor(
    readonly netns: string,
    readonly name: string,
    readonly mtu: number,
    readonly ports: string[],
  ) {}
  /** Root batch: the bridge itself (snooping off: no querier here, so ND multicast must flood). */
  createLines(): string[] {
    return [`link add name ${this.name} mtu ${this.mtu} netns ${this.netns} type bridge mcast_snooping 0`];
  }
  /** Bridge namespace batch: no IPv6 addresses on the bridge or its ports, everything up. */
  configLines(): string[] {
    const lines = [`link set dev ${this.name} addrgenmode none`];
    for (const p of this.ports) lines.push(`link set dev ${p} addrgenmode none`, `link set dev ${p} master ${this.name} up`);
    lines.push(`link set dev ${this.name} up`);
    return lines;
  }
}

/**
 * The air segment of an access link (l2Move bridge): a bridge alone in its
 * namespace, the MN's veth on port mnPort, one veth per candidate MAG on the
 * other ports. STP off and forward delay 0 so a port forwards the moment it is
 * up; snooping off so ND multicast floods; no IPv6 on the bridge or its ports.
 * Only the MN port and the port of the MAG the link starts on are up.
 */
export class AirSegment {
  constructor(
    readonly air: PlanAir,
    readonly mtu: number,
    /** the MN's interface, then each port's MAG interface, in air.ports order */
    readonly mn: VethEnd,
    readonly mags: VethEnd[],
  ) {}
  /** Root batch: the bridge and every veth, each end created in its namespace. */
  createLines(): string[] {
    const a = this.air;
    const lines = [`link add name ${a.bridge} mtu ${this.mtu} netns ${a.netns} type bridge stp_state 0 forward_delay 0 mcast_snooping 0`];
    lines.push(...new VethPair(this.mn, { netns: a.netns, name: a.mnPort.name, ifindex: a.mnPort.ifindex, mtu: this.mtu }).createLines());
    a.ports.forEach((p, j) => {
      const mag = this.mags[j];
      if (!mag) throw badInput(`air segment ${a.netns}: no MAG interface for port ${p.port}`);
      lines.push(...AirSegment.portPair(a.netns, p.port, p.ifindex, mag).createLines());
    });
    return lines;
  }
  /** Air namespace batch: addrgenmode none everywhere, ports enslaved, MN and first MAG port up. */
  configLines(): string[] {
    const a = this.air;
    const lines = [`link set dev ${a.bridge} addrgenmode none`];
    const port = (name: string, up: boolean) =>
      lines.push(`link set dev ${name} addrgenmode none`, `link set dev ${name} master ${a.bridge}${up ? ' up' : ''}`);
    port(a.mnPort.name, true);
    a.ports.forEach((p, j) => port(p.port, j === 0));
    lines.push(`link set dev ${a.bridge} up`);
    return lines;
  }
  /** One MAG's standby veth: the MAG end (its access interface) and the bridge port. */
  static portPair(netns: string, port: string, ifindex: number, mag: VethEnd): VethPair {
    return new VethPair({ netns, name: port, ifindex, mtu: mag.mtu }, mag);
  }
}

/** Address line; `replace` at run time so re-adding an address that survived is not an error. */
export function addressLine(verb: 'add' | 'replace', cidr: string, dev: string, nodad: boolean): string {
  return `addr ${verb} ${cidr} dev ${dev}${nodad && isV6(cidr) ? ' nodad' : ''}`;
}

export function routeLine(r: PlanRoute): string {
  const v4 = (r.via ?? r.dst).includes('.') && !(r.via ?? r.dst).includes(':');
  // 'default' without a family would mean IPv4 to ip; spell it out
  const dst = r.dst === 'default' ? (v4 ? '0.0.0.0/0' : '::/0') : r.dst;
  let line = `route add ${dst}`;
  if (r.via) line += ` via ${r.via}`;
  if (r.dev) line += ` dev ${r.dev}`;
  return line;
}

const isV6 = (cidr: string) => cidr.includes(':');

/**
 * DAD on a planned address is pointless (the planner made them unique) and
 * makes it tentative for a second or more, so planned addresses get `nodad`
 * unless the node's sysctls explicitly turn DAD on for that interface.
 */
export function dadOff(node: PlanNode, iface: string): boolean {
  const own = node.sysctls[`net.ipv6.conf.${iface}.accept_dad`];
  const all = node.sysctls['net.ipv6.conf.all.accept_dad'];
  const dflt = node.sysctls['net.ipv6.conf.default.accept_dad'];
  const v = own ?? all ?? dflt;
  return v === undefined || Number(v) < 1;
}

/**
 * A node's own configuration inside its namespace: lo, addresses, links up,
 * routes. `noAutoLinkLocal`: interfaces that get no kernel-made link-local
 * (addrgenmode none; MAG access interfaces carry only fe80::1, RFC 5213 6.8).
 */
export class NodeConfig {
  constructor(
    readonly node: PlanNode,
    readonly noAutoLinkLocal: ReadonlySet<string> = new Set(),
  ) {}
  configLines(): string[] {
    const lines = ['link set dev lo up'];
    for (const i of this.node.interfaces) if (this.noAutoLinkLocal.has(i.name)) lines.push(`link set dev ${i.name} addrgenmode none`);
    for (const i of this.node.interfaces) {
      for (const a of i.addresses) lines.push(addressLine('add', a, i.name, dadOff(this.node, i.name)));
    }
    for (const i of this.node.interfaces) lines.push(`link set dev ${i.name} up`);
    for (const r of this.node.routes) lines.push(routeLine(r));
    return lines;
  }
  /** /proc/sys writes (path relative to /proc/sys, value); dots become slashes as sysctl(8) does. */
  sysctlWrites(): Array<[string, string]> {
    return Object.entries(this.node.sysctls).map(([key, value]) => {
      if (!/^[A-Za-z0-9_./-]+$/.test(key) || key.includes('..') || key.startsWith('/')) {
        throw badInput(`node ${this.node.name}: sysctl key '${key}' is not a plain sysctl name`);
      }
      return [key.includes('/') ? key : key.replaceAll('.', '/'), value];
    });
  }
}

/** Rate limit of one interface: a tbf root qdisc (tc batch line). */
export class Shaper {
  constructor(
    readonly dev: string,
    readonly rate: string,
    readonly mtu: number,
  ) {}
  tcLines(): string[] {
    const bps = parseRate(this.rate);
    if (bps === null) throw badInput(`rate '${this.rate}' is not a tc rate (e.g. 100mbit, 1gbit, 500kbit)`);
    // burst: 10 ms worth of traffic, at least two full frames (tbf refuses a burst below the MTU)
    const burst = Math.max(Math.ceil(bps / 8 / 100), 2 * (this.mtu + 14));
    return [`qdisc add dev ${this.dev} root tbf rate ${this.rate} burst ${burst} latency 50ms`];
  }
}

const RATE_UNITS: Record<string, number> = {
  bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12,
  bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9, tbps: 8e12,
};

/** tc rate string to bits per second (tc's units: SI multiples, `bps` = bytes), or null. */
export function parseRate(rate: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([a-z]*)$/i.exec(rate.trim());
  if (!m) return null;
  const unit = (m[2] ?? '').toLowerCase() || 'bit';
  const mult = RATE_UNITS[unit];
  if (mult === undefined) return null;
  const v = Number(m[1]) * mult;
  return v > 0 ? v : null;
}

/** MAG access interfaces of a node (addrgenmode none: only fe80::1 as link-local). */
export function magAccessIfaces(node: PlanNode, links: PlanLink[]): Set<string> {
  if (node.kind !== 'mag') return new Set();
  const access = new Set(links.filter((l) => l.kind === 'access').map((l) => l.id));
  return new Set(node.interfaces.filter((i) => access.has(i.link)).map((i) => i.name));
}

/** The two planned interfaces of a 2-endpoint link, resolved against the nodes. */
export function linkEnds(link: PlanLink, byNode: Map<string, PlanNode>): Array<{ node: PlanNode; iface: PlanInterface }> {
  return link.endpoints.map((ep) => {
    const node = byNode.get(ep.node);
    if (!node) throw badInput(`link ${link.id}: endpoint node '${ep.node}' is not in the plan`);
    const iface = node.interfaces.find((i) => i.name === ep.iface);
    if (!iface) throw badInput(`link ${link.id}: node ${ep.node} has no interface '${ep.iface}'`);
    return { node, iface };
  });
}
