import { badInput } from '../errors.js';
import { nsName, RUN_ID_RE } from '../run/paths.js';
import {
  ACCESS_LINK_LOCAL,
  ACCESS_MAC,
  formatPrefix,
  hostAddress,
  IFINDEX_BASE,
  macForIfindex,
  parsePrefix,
  subnet64,
  type Prefix,
} from './addressing.js';
import { checkTopology } from './checks.js';
import { formatPath } from './issues.js';
import { Plan, type AirPort, type NodeKind, type PlanInterface, type PlanLink, type PlanNode, type PlanRoute } from './plan.js';
import { airNodeName, attNumber, bridgeNodeName, defaultMnId, magLma, resolveLinks } from './resolve.js';
import { expandScenario, parseDuration } from './scenario.js';
import type { TopologyFile } from './schema.js';

// TopologyFile -> Plan: kernel names, interface indexes, MACs, addresses,
// routes and sysctls. Deterministic: everything is numbered in file order
// (nodes as written, links as listed, endpoints left to right), so the same
// file always gives the same plan, and only the netns names depend on the run id.
//
// Addressing rules:
// - link `l<n>` is links[n-1]; a backhaul link gets subnet n of pools.backhaul,
//   a core link subnet n of pools.cn (a /64 each), so l3 <-> 2001:db8:b:3::/64;
// - endpoint k (0-based, in the link's `endpoints` order) gets host k+1 of it;
// - an access link has no global address: the MAG end has fe80::1/64 and MAC
//   02:00:00:00:00:01 on every MAG (RFC 5213 6.8, 6.9.3), and the MN gets its
//   address by SLAAC from the MAG's RA; its home network prefix is the one the
//   file fixes (interfaces.<if>.hnp) or, by default, one the LMA allocates
//   from pools.hnp at the first registration;
// - interface indexes count up from 1000 over all interfaces, so no two veth
//   ends share one (kernel.md: shared indexes delay carrier changes by ~1 s);
//   other MACs are 02:70:6c + the 24-bit index.
// - settings.l2Move bridge (the default): each access link also gets an air
//   segment (PlanLink.air, namespace pl<run>-air<k>) and every MAG the MN
//   interface can be on (where it starts, then each MAG a scenario move or
//   attach sends it to) an access interface of its own: the planned name on
//   the first MAG, the step's toIface (as scenario.ts computes it) or, if that
//   MAG already holds that name, a free acc<k> on the others. These standby
//   interfaces and the air ports are numbered after all link endpoints, so the
//   indexes of the links themselves are the same in both modes.
// Routes: on-link /64s come from the addresses; a MAG routes pools.cn and
// pools.backhaul via its LMA (so MAGs reach the CNs and each other across
// the LMA), a CN has a default route via the LMA at the far end of its first
// core link. LMAs and MNs get no static routes (bindings and RAs add them).

/** Names inside an air namespace: the bridge, the port facing the MN, port j facing a MAG (j from 1). */
export const AIR_BRIDGE = 'br0';
export const AIR_MN_PORT = 'mn';
export const airPortName = (j: number) => `p${j}`;

const MTU = { access: 1500, backhaul: 1600, core: 1600 } as const; // the tunnel adds 40 bytes

export function planTopology(file: TopologyFile, source: string, runId: string): Plan {
  if (!RUN_ID_RE.test(runId)) throw badInput(`run id "${runId}" must be 1-8 characters of a-z and 0-9`);
  const issues = checkTopology(file);
  if (issues.length > 0) {
    throw badInput(`${source}: ${issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('\n')}`, undefined, { issues });
  }
  const pool = (key: keyof TopologyFile['pools']) => parsePrefix(file.pools[key]) as Prefix; // checked above
  const pools = { backhaul: pool('backhaul'), hnp: pool('hnp'), cn: pool('cn') };
  const nodes = file.topology.nodes;
  const kindOf = (n: string) => nodes[n]?.kind as NodeKind;

  const ifaces = new Map<string, PlanInterface[]>(Object.keys(nodes).map((n) => [n, []]));
  const addrOn = new Map<string, string>(); // "node|link" -> address without length
  let nextIndex = IFINDEX_BASE;

  const links: PlanLink[] = resolveLinks(file).map((link) => {
    const spec = file.topology.links[link.index]!;
    const subnet = link.kind === 'access' ? undefined : subnet64(link.kind === 'backhaul' ? pools.backhaul : pools.cn, link.index + 1);
    const magEnd = link.endpoints.find((e) => kindOf(e.node) === 'mag');
    const magNode = magEnd && nodes[magEnd.node];
    const accessMtu = magNode?.kind === 'mag' ? magNode.access?.mtu : undefined;
    const mtu = spec.mtu ?? (link.kind === 'access' ? accessMtu ?? MTU.access : MTU[link.kind]);

    link.endpoints.forEach((e, k) => {
      const ifindex = nextIndex++;
      const kind = kindOf(e.node);
      const magAccess = link.kind === 'access' && kind === 'mag';
      const addresses = subnet ? [hostAddress(subnet, k + 1)] : magAccess ? [ACCESS_LINK_LOCAL] : [];
      if (subnet) addrOn.set(`${e.node}|${link.id}`, addresses[0]!.split('/')[0]!);
      const node = nodes[e.node];
      const att = node?.kind === 'mn' ? attNumber(node.interfaces[e.iface]!.att) : null;
      ifaces.get(e.node)!.push({
        name: e.iface,
        ifindex,
        mac: magAccess ? ACCESS_MAC : macForIfindex(ifindex),
        mtu,
        addresses,
        link: link.id,
        ...(att !== null ? { att } : {}),
      });
    });

    const shared = link.endpoints.length > 2;
    return {
      id: link.id,
      kind: link.kind,
      endpoints: link.endpoints.map((e) => ({ node: e.node, iface: e.iface })),
      ...(shared ? { bridge: { netns: nsName(runId, bridgeNodeName(link.index)), name: bridgeNodeName(link.index) } } : {}),
      ...(subnet ? { subnet: formatPrefix(subnet) } : {}),
      ...(spec.rate ? { rate: spec.rate } : {}),
      ...(spec.delay !== undefined ? { delayMs: parseDuration(spec.delay) } : {}),
      ...(spec.loss !== undefined ? { lossPct: typeof spec.loss === 'number' ? spec.loss : Number(spec.loss.slice(0, -1)) } : {}),
      mtu,
      ...(spec.signaling
        ? {
            signaling: {
              delayMs: spec.signaling.delay !== undefined ? parseDuration(spec.signaling.delay) : 0,
              lossPct: spec.signaling.loss === undefined ? 0 : typeof spec.signaling.loss === 'number' ? spec.signaling.loss : Number(spec.signaling.loss.slice(0, -1)),
              ...(spec.signaling.messages ? { messages: spec.signaling.messages } : {}),
            },
          }
        : {}),
    };
  });

  const steps = expandScenario(file).steps;
  if (file.settings.l2Move === 'bridge') {
    links.forEach((link, index) => {
      if (link.kind !== 'access') return;
      const mnEnd = link.endpoints.find((e) => kindOf(e.node) === 'mn');
      const magEnd = link.endpoints.find((e) => kindOf(e.node) === 'mag');
      if (!mnEnd || !magEnd) return;
      const ref = `${mnEnd.node}:${mnEnd.iface}`;
      const ports: Array<Omit<AirPort, 'ifindex'>> = [{ mag: magEnd.node, iface: magEnd.iface, port: airPortName(1) }];
      for (const { action: a } of steps) {
        if ((a.type !== 'move' && a.type !== 'attach') || a.iface !== ref || ports.some((p) => p.mag === a.to)) continue;
        const held = ifaces.get(a.to)!;
        const taken = new Set(held.map((i) => i.name));
        let name = a.toIface;
        for (let k = 1; taken.has(name); k++) name = `acc${k}`;
        const ifindex = nextIndex++;
        held.push({ name, ifindex, mac: ACCESS_MAC, mtu: link.mtu, addresses: [ACCESS_LINK_LOCAL], link: link.id });
        ports.push({ mag: a.to, iface: name, port: airPortName(ports.length + 1) });
      }
      link.air = {
        netns: nsName(runId, airNodeName(index)),
        bridge: AIR_BRIDGE,
        mnPort: { name: AIR_MN_PORT, ifindex: nextIndex++ },
        ports: ports.map((p) => ({ ...p, ifindex: nextIndex++ })),
      };
    });
  }

  /** The first link of `kind` joining a and b: a's interface on it and b's address there. */
  const between = (a: string, b: string, kind: PlanLink['kind']) => {
    const link = links.find((l) => l.kind === kind && l.endpoints.some((e) => e.node === a) && l.endpoints.some((e) => e.node === b));
    if (!link) return undefined;
    const dev = link.endpoints.find((e) => e.node === a)!.iface;
    return { link, dev, mine: addrOn.get(`${a}|${link.id}`)!, theirs: addrOn.get(`${b}|${link.id}`)! };
  };

  // each node's options are checked against its kind's schema by Plan.parse below
  const planNodes = Object.entries(nodes).map(([name, node]) => {
    const interfaces = ifaces.get(name)!;
    const routes: PlanRoute[] = [];
    let options: Record<string, unknown> = {};
    switch (node.kind) {
      case 'mn':
        options = {
          mnId: node.mnId ?? defaultMnId(name),
          interfaces: Object.fromEntries(
            Object.entries(node.interfaces).map(([ifname, spec]) => {
              const planned = interfaces.find((i) => i.name === ifname);
              return [
                ifname,
                {
                  att: attNumber(spec.att),
                  llId: spec.llId ?? planned?.mac,
                  ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
                  ...(spec.hnp !== undefined ? { hnp: spec.hnp } : {}),
                  ...(spec.shareWith !== undefined ? { shareWith: spec.shareWith } : {}),
                  ...(spec.dormant !== undefined ? { dormant: spec.dormant } : {}),
                },
              ];
            }),
          ),
        };
        break;
      case 'mag': {
        const lma = magLma(file, name)!;
        const up = between(name, lma, 'backhaul')!;
        routes.push(
          { dst: formatPrefix(pools.cn), via: up.theirs, dev: up.dev },
          { dst: formatPrefix(pools.backhaul), via: up.theirs, dev: up.dev },
        );
        options = {
          lma,
          lmaAddress: up.theirs,
          proxyCoa: up.mine,
          backhaulIface: up.dev,
          accessLinkLocal: ACCESS_LINK_LOCAL.split('/')[0],
          accessMac: ACCESS_MAC,
          ...(node.options ?? {}),
        };
        break;
      }
      case 'lma': {
        const mags = Object.keys(nodes).filter((m) => kindOf(m) === 'mag' && magLma(file, m) === name);
        options = {
          mags: mags.map((m) => {
            const b = between(name, m, 'backhaul')!;
            return { name: m, proxyCoa: b.theirs, lmaAddress: b.mine, iface: b.dev };
          }),
          ...(node.options ?? {}),
        };
        break;
      }
      case 'cn': {
        const lma = links.find((l) => l.kind === 'core' && l.endpoints.some((e) => e.node === name))!
          .endpoints.find((e) => kindOf(e.node) === 'lma')!.node;
        const up = between(name, lma, 'core')!;
        routes.push({ dst: 'default', via: up.theirs, dev: up.dev });
        options = { lma };
        break;
      }
    }
    return {
      name,
      kind: node.kind,
      netns: nsName(runId, name),
      interfaces,
      routes,
      sysctls: sysctlsFor(node.kind, interfaces.map((i) => i.name)),
      options,
    };
  });

  return Plan.parse({
    version: 1,
    runId,
    name: file.name,
    source,
    pools: { backhaul: formatPrefix(pools.backhaul), hnp: formatPrefix(pools.hnp), cn: formatPrefix(pools.cn) },
    nodes: planNodes,
    links,
    settings: { l2Move: file.settings.l2Move, transport: file.settings.transport, tunnel: file.settings.tunnel },
    scenario: steps,
  });
}

/**
 * Keys relative to /proc/sys. `all`/`default` keys come first; keys naming an
 * interface apply once the links exist (accept_dad and autoconf are per
 * interface in the kernel: `all` does not turn them off). `default` covers
 * interfaces moved into the namespace later (the MAG end of a moving MN).
 */
export function sysctlsFor(kind: NodeKind, ifnames: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const conf = (scope: string, key: string, value: string) => (out[`net.ipv6.conf.${scope}.${key}`] = value);
  const scopes = ['all', 'default', ...ifnames];
  if (kind === 'mn') {
    // A host that must take RAs from whichever MAG it is on: accept_ra=2 keeps
    // working even if forwarding gets turned on. Set as a roaming host is
    // (a Wi-Fi phone): DAD stays on but optimistic (RFC 4429, made for mobile
    // nodes), so a carrier return does not leave the link-local address
    // unusable for a second; neighbour entries survive carrier loss
    // (ndisc_evict_nocarrier=0, meant for roaming between access points),
    // which is right here since every MAG has the same fe80::1 and MAC.
    for (const s of scopes) {
      conf(s, 'forwarding', '0');
      if (s !== 'all') conf(s, 'accept_ra', '2');
      conf(s, 'autoconf', '1');
      conf(s, 'optimistic_dad', '1');
      conf(s, 'use_optimistic', '1');
      conf(s, 'ndisc_evict_nocarrier', '0');
    }
    return out;
  }
  const router = kind === 'lma' || kind === 'mag';
  for (const s of scopes) {
    conf(s, 'forwarding', router ? '1' : '0');
    conf(s, 'accept_ra', '0'); // routers and the CN are configured statically
    conf(s, 'autoconf', '0');
    conf(s, 'accept_dad', '0'); // static addresses usable at once; fe80::1 repeats on every MAG by design
  }
  // scenario link-down/link-up must not wipe the static addresses (kernel.md)
  conf('all', 'keep_addr_on_down', '1');
  conf('default', 'keep_addr_on_down', '1');
  return out;
}
