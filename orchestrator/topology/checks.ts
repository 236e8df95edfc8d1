import { formatPrefix, isAllowedSpace, overlaps, parsePrefix, subnetCount, type Prefix } from './addressing.js';
import { formatPath, type Issue, type PathSeg } from './issues.js';
import type { LinkKind, NodeKind } from './plan.js';
import {
  airNodeName,
  attNumber,
  bridgeNodeName,
  inferLinkKind,
  lmaNames,
  magLma,
  parseEndpoint,
  defaultMnId,
} from './resolve.js';
import { expandScenario } from './scenario.js';
import { IFACE_NAME_MAX, IFACE_NAME_RE, NODE_NAME_RE, type TopologyFile } from './schema.js';

// What the schema cannot say: references between nodes and links, names the
// kernel would refuse, pools, and the roles each node needs to play. Returns
// every problem found (not just the first), each with its path.

/** Names that already mean something inside a namespace (loopback, sysctl conf dirs). */
const RESERVED_IFACES = new Set(['lo', 'all', 'default']);

export function checkTopology(file: TopologyFile): Issue[] {
  const issues: Issue[] = [];
  const add = (path: PathSeg[], message: string) => issues.push({ path, message });
  const nodes = file.topology.nodes;
  const kindOf = (n: string): NodeKind | undefined => nodes[n]?.kind;

  checkPools(file, add);

  // --- links: endpoints, kinds, reuse ---
  const usedBy = new Map<string, PathSeg[]>(); // "node:iface" -> first endpoint path
  const linkKinds: Array<LinkKind | null> = [];
  const unresolved = new Set<string>(); // nodes on a link with a bad endpoint: their role checks would only repeat it
  file.topology.links.forEach((link, i) => {
    const lp: PathSeg[] = ['topology', 'links', i];
    const kinds: NodeKind[] = [];
    const seen = new Set<string>();
    let resolved = true;
    link.endpoints.forEach((ref, j) => {
      const ep: PathSeg[] = [...lp, 'endpoints', j];
      const { node, iface } = parseEndpoint(ref);
      const kind = kindOf(node);
      if (kind === undefined) {
        add(ep, `node "${node}" is not defined in topology.nodes`);
        resolved = false;
        return;
      }
      kinds.push(kind);
      const nameProblem = ifaceNameProblem(iface);
      if (nameProblem) add(ep, nameProblem);
      const n = nodes[node];
      if (n?.kind === 'mn' && !(iface in n.interfaces)) {
        add(ep, `interface "${iface}" is not declared in ${formatPath(['topology', 'nodes', node, 'interfaces'])}`);
      }
      if (seen.has(node)) add(ep, `a link cannot join "${node}" to itself`);
      seen.add(node);
      const first = usedBy.get(ref);
      if (first) add(ep, `endpoint "${ref}" is already used by ${formatPath(first)}`);
      else usedBy.set(ref, ep);
    });
    if (!resolved) {
      for (const ref of link.endpoints) unresolved.add(parseEndpoint(ref).node);
      linkKinds.push(null);
      return;
    }
    const inferred = inferLinkKind(kinds);
    const names = [...new Set(kinds)].sort().join(' and ');
    if (inferred === null) {
      add([...lp, 'endpoints'], `a link cannot join ${names} (links are mn-mag access, mag-lma backhaul, lma-cn core)`);
    } else if (link.kind && link.kind !== inferred) {
      add([...lp, 'kind'], `kind "${link.kind}" does not match the endpoints (${names}): this is a ${inferred} link`);
    }
    // after a mismatch, go on with the kind the endpoints imply, so one mistake gives one message
    const kind = inferred ?? link.kind ?? null;
    linkKinds.push(kind);
    if ((kind === 'access' || kind === 'core') && link.endpoints.length !== 2) {
      add([...lp, 'endpoints'], `an ${kind} link joins exactly 2 endpoints; only backhaul links can be shared segments`);
    }
    if (kind === 'backhaul' && link.endpoints.length > 2 && kindOf(bridgeNodeName(i)) !== undefined) {
      add(['topology', 'nodes', bridgeNodeName(i)], `node name collides with the bridge namespace of shared segment ${formatPath(lp)}`);
    }
    if (kind === 'access' && file.settings.l2Move === 'bridge' && kindOf(airNodeName(i)) !== undefined) {
      add(['topology', 'nodes', airNodeName(i)], `node name collides with the air namespace of access link ${formatPath(lp)} (settings.l2Move bridge)`);
    }
  });

  const linksOf = (node: string, kind: LinkKind) =>
    file.topology.links
      .map((l, i) => ({ nodes: l.endpoints.map((e) => parseEndpoint(e).node), kind: linkKinds[i] }))
      .filter((l) => l.kind === kind && l.nodes.includes(node));

  // --- nodes: roles ---
  const mnIds = new Map<string, string>();
  const lmas = lmaNames(file);
  for (const [name, node] of Object.entries(nodes)) {
    const np: PathSeg[] = ['topology', 'nodes', name];
    if (unresolved.has(name)) continue;
    switch (node.kind) {
      case 'mn': {
        const access = linksOf(name, 'access');
        if (access.length === 0) add(np, 'an MN needs an access link to a MAG');
        const used = new Set(
          file.topology.links.flatMap((l) => l.endpoints.map(parseEndpoint).filter((e) => e.node === name).map((e) => e.iface)),
        );
        for (const [ifname, spec] of Object.entries(node.interfaces)) {
          const ip: PathSeg[] = [...np, 'interfaces', ifname];
          if (RESERVED_IFACES.has(ifname)) add(ip, `interface name "${ifname}" is reserved`);
          if (attNumber(spec.att) === null) {
            add([...ip, 'att'], `unknown access technology ${JSON.stringify(spec.att)}: use a name (802.11, 802.3, virtual, e-utran, ...) or a number 1-255`);
          }
          if (access.length > 0 && !used.has(ifname)) add(ip, 'interface is declared but no access link uses it');
          checkSharing(node.interfaces, ifname, ip, add);
        }
        const id = node.mnId ?? defaultMnId(name);
        const other = mnIds.get(id);
        if (other) add([...np, 'mnId'], `MN identifier "${id}" is also the one of ${other}`);
        else mnIds.set(id, name);
        break;
      }
      case 'mag': {
        if (node.lma !== undefined) {
          const k = kindOf(node.lma);
          if (k === undefined) add([...np, 'lma'], `node "${node.lma}" is not defined`);
          else if (k !== 'lma') add([...np, 'lma'], `"${node.lma}" is a ${k}, not an LMA`);
        } else if (lmas.length !== 1) {
          add(np, lmas.length === 0 ? 'a MAG needs an LMA, and the topology has none' : `several LMAs (${lmas.join(', ')}): say which one with lma`);
        }
        const lma = magLma(file, name);
        if (lma && kindOf(lma) === 'lma' && !linksOf(name, 'backhaul').some((l) => l.nodes.includes(lma))) {
          add(np, `a MAG needs a backhaul link to its LMA "${lma}"`);
        }
        break;
      }
      case 'cn':
        if (linksOf(name, 'core').length === 0) add(np, 'a CN needs a core link to an LMA');
        break;
      case 'lma':
        break;
    }
  }

  // References in the scenario only make sense once the topology holds together.
  if (issues.length === 0) issues.push(...expandScenario(file).issues);
  return issues;
}

type MnInterfaces = Extract<TopologyFile['topology']['nodes'][string], { kind: 'mn' }>['interfaces'];

/** seed 001: a shared prefix names another interface with a fixed prefix; a dormant binding backs up a shared one. */
function checkSharing(ifaces: MnInterfaces, ifname: string, ip: PathSeg[], add: (path: PathSeg[], message: string) => void): void {
  const spec = ifaces[ifname]!;
  if (spec.shareWith !== undefined) {
    const other = ifaces[spec.shareWith];
    if (spec.shareWith === ifname) add([...ip, 'shareWith'], 'an interface cannot share its own prefix');
    else if (!other) add([...ip, 'shareWith'], `"${spec.shareWith}" is not an interface of this MN`);
    else if (other.hnp === undefined) add([...ip, 'shareWith'], `interface "${spec.shareWith}" needs a fixed hnp to be shared`);
    else if (other.shareWith !== undefined) add([...ip, 'shareWith'], `interface "${spec.shareWith}" shares another interface's prefix itself`);
    if (spec.hnp !== undefined) add([...ip, 'hnp'], 'an interface that shares another interface\'s prefix has no hnp of its own');
  }
  if (spec.dormant === true && spec.shareWith === undefined) add([...ip, 'dormant'], 'a dormant binding backs up another interface: name it with shareWith');
}

export function ifaceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the interface name is empty';
  if (name.length > IFACE_NAME_MAX) return `interface name "${name}" is longer than ${IFACE_NAME_MAX} characters (kernel limit)`;
  if (!IFACE_NAME_RE.test(name)) return `interface name "${name}" may only use A-Z, a-z, 0-9, "_" and "-"`;
  if (RESERVED_IFACES.has(name)) return `interface name "${name}" is reserved`;
  return undefined;
}

export const isNodeName = (name: string) => NODE_NAME_RE.test(name);

const POOL_KEYS = ['backhaul', 'hnp', 'cn'] as const;

function checkPools(file: TopologyFile, add: (path: PathSeg[], message: string) => void): void {
  const parsed = new Map<string, Prefix>();
  for (const key of POOL_KEYS) {
    const path: PathSeg[] = ['pools', key];
    const p = parsePrefix(file.pools[key]);
    if (typeof p === 'string') add(path, p);
    else if (!isAllowedSpace(p)) add(path, `${formatPrefix(p)} is not a documentation (2001:db8::/32) or ULA (fc00::/7) prefix`);
    else if (p.len > 64) add(path, `${formatPrefix(p)} is longer than /64; pools hand out /64 subnets`);
    else parsed.set(key, p);
  }
  POOL_KEYS.forEach((a, i) => {
    for (const b of POOL_KEYS.slice(i + 1)) {
      const pa = parsed.get(a);
      const pb = parsed.get(b);
      if (pa && pb && overlaps(pa, pb)) add(['pools', b], `${formatPrefix(pb)} overlaps pools.${a} (${formatPrefix(pa)})`);
    }
  });
  // Subnet n of a pool goes to link n (see planner.ts), so the pool must reach the last link number.
  const links = file.topology.links.length;
  const mnIfaces = Object.values(file.topology.nodes).reduce((s, n) => s + (n.kind === 'mn' ? Object.keys(n.interfaces).length : 0), 0);
  const need: Record<(typeof POOL_KEYS)[number], number> = { backhaul: links + 1, cn: links + 1, hnp: mnIfaces + 1 };
  for (const key of POOL_KEYS) {
    const p = parsed.get(key);
    if (p && subnetCount(p) < need[key]) add(['pools', key], `${formatPrefix(p)} has too few /64 subnets for this topology (needs ${need[key]})`);
  }
}
